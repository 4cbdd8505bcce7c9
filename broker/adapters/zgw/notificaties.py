"""Changes made in the ZGW APIs by others (a case worker in a ZGW client), as the Notificaties API
announces them, read back as the case model.

routes.yaml, on a ``zgw`` target::

    notificaties:
      url: https://opennotificaties.example.nl/api/v1   # the Notificaties API
      callback_url: https://broker.example.nl/zgw/notificaties
      auth_env: ZGW_NOTIFICATIES_AUTH     # the Authorization header value the Notificaties API must send
      kanalen: [zaken, documenten, besluiten]

- :meth:`NotificatiesMixin.subscribe`: the abonnement on the kanalen, with the callback URL and the
  ``auth`` value the Notificaties API sends back as the callback's Authorization header (Notificaties
  API 1.0.0, ``Abonnement``); made once: an abonnement with the same callback URL is kept.
- :meth:`NotificatiesMixin.authentic`: the callback's Authorization header against that value, in
  constant time.
- :meth:`NotificatiesMixin.caused_by_broker`: the notification of a write the broker made itself (each
  write through the client is expected to be announced once: :class:`broker.adapters.zgw.own_writes.OwnWrites`,
  shared by the broker's processes);
- :meth:`NotificatiesMixin.change`: a notification (``Message``) as a :class:`Change` of the case model,
  or None when it is not one the subscribers are told of.

What is told: a zaak created or changed (kanaal zaken, resource zaak), a status set (status), a document
linked to a zaak (zaakinformatieobject) or changed (kanaal documenten, enkelvoudiginformatieobject, when
it belongs to a zaak) and a besluit taken or changed (kanaal besluiten, besluit, when it has a zaak).
The others (rollen, resultaten, zaakobjecten, deletions) are not.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from broker.adapters.options import HttpUrl, Options
from broker.adapters.zgw.base import ZgwBase
from broker.adapters.zgw.client import ZgwError
from broker.adapters.zgw.convert import tijdstip_out
from broker.adapters.zgw_notificatie import identity
from broker.model import Besluit, Document, Status, Zaak
from broker.model.ports import Context

CHANGED = ("update", "partial_update")
Kanaal = Literal["zaken", "documenten", "besluiten"]
KANALEN: tuple[Kanaal, ...] = ("zaken", "documenten", "besluiten")


class NotificatiesOptions(Options):
    """The ``notificaties`` option of a ``zgw`` target: the broker subscribes to the Notificaties API."""

    #: the Notificaties API, e.g. https://opennotificaties.example.nl/api/v1
    url: HttpUrl
    #: where the Notificaties API sends notifications: the broker's POST /zgw/notificaties
    callback_url: HttpUrl
    #: the Authorization header value the Notificaties API must send to the callback (or ``auth_env``)
    auth: str | None = None
    #: environment variable holding that value
    auth_env: str | None = None
    #: the kanalen subscribed to
    kanalen: list[Kanaal] = Field(default_factory=lambda: list(KANALEN), min_length=1)

    @model_validator(mode="after")
    def _one_auth(self) -> NotificatiesOptions:
        if (self.auth is None) == (self.auth_env is None):
            raise ValueError("give auth or auth_env (the Authorization value the callback demands)")
        return self

    def resolved_auth(self) -> str:
        if self.auth_env is not None:
            value = os.environ.get(self.auth_env)
            if not value:
                raise ValueError(f"environment variable {self.auth_env} (notificaties.auth_env) is not set")
            return value
        assert self.auth is not None
        return self.auth


@dataclass(frozen=True)
class Change:
    """What a notification announced, read back: ``soort`` zaak (created or changed), status, document
    (linked to the zaak) or besluit; the zaak as it is now."""

    soort: Literal["zaak", "status", "document", "besluit"]
    actie: str
    zaak: Zaak
    document: Document | None = None
    besluit: Besluit | None = None
    #: the status that was set (one of ``zaak.statussen``)
    status: Status | None = None




class NotificatiesMixin(ZgwBase):
    notificaties: NotificatiesOptions | None = None

    def subscribe(self) -> str:
        """The URL of the broker's abonnement at the Notificaties API (made when there is none)."""
        opts = self._notificaties()
        base = opts.url.rstrip("/")
        for abonnement in self.client.all(f"{base}/abonnement"):
            if abonnement.get("callbackUrl") == opts.callback_url:
                return str(abonnement["url"])
        body = {"callbackUrl": opts.callback_url, "auth": opts.resolved_auth(),
                "kanalen": [{"naam": k, "filters": {}} for k in opts.kanalen]}
        return str(self.client.post(f"{base}/abonnement", body)["url"])

    def authentic(self, authorization: str | None) -> bool:
        """Is ``authorization`` the value the abonnement told the Notificaties API to send?"""
        if self.notificaties is None or authorization is None:
            return False
        return hmac.compare_digest(authorization.encode(), self.notificaties.resolved_auth().encode())

    def caused_by_broker(self, message: dict[str, Any]) -> bool:
        """Is the notification about a write of the broker itself (each write answers one notification)?"""
        written = self.client.written
        return written is not None and written.claim(str(message.get("resourceUrl") or ""), identity(message))

    def change(self, message: dict[str, Any]) -> Change | None:
        """The change a notification announces, read back from the APIs; None for a resource that is
        gone and for what subscribers are not told of (ask :meth:`caused_by_broker` first)."""
        kanaal, resource, actie = message.get("kanaal"), message.get("resource"), str(message.get("actie"))
        url = str(message.get("resourceUrl") or "")
        work = self._work(Context())
        try:
            if kanaal == "zaken" and resource == "zaak" and actie in ("create", *CHANGED):
                return Change("zaak", actie, self._zaak_model(work, self.client.get(url)))
            if kanaal == "zaken" and resource == "status" and actie == "create":
                status = self.client.get(url)
                model = self._zaak_model(work, self.client.get(status["zaak"]))
                gezet = tijdstip_out(status.get("datumStatusGezet"))
                set_ = next((s for s in model.statussen if s.datum_status_gezet == gezet
                             and s.toelichting == (status.get("statustoelichting") or None)), None)
                if set_ is None and model.statussen:
                    set_ = model.statussen[-1]
                return Change("status", actie, model, status=set_)
            if kanaal == "zaken" and resource == "zaakinformatieobject" and actie == "create":
                link = self.client.get(url)
                zaak = self.client.get(link["zaak"])
                model = self._zaak_model(work, zaak)
                eio = self.client.get(link["informatieobject"])
                document = self._document_model(work, eio, zaak.get("identificatie"), with_content=False)
                return Change("document", actie, model, document=document)
            if kanaal == "documenten" and resource == "enkelvoudiginformatieobject" and actie in CHANGED:
                links = self.client.all(self.client.url("zaken", "zaakinformatieobjecten"), {"informatieobject": url})
                if not links:  # not (yet) a document of a zaak
                    return None
                zaak = self.client.get(links[0]["zaak"])
                document = self._document_model(work, self.client.get(url), zaak.get("identificatie"),
                                                with_content=False)
                return Change("document", actie, self._zaak_model(work, zaak), document=document)
            if kanaal == "besluiten" and resource == "besluit" and actie in ("create", *CHANGED):
                besluit = self.client.get(url)
                if not besluit.get("zaak"):
                    return None
                zaak = self.client.get(besluit["zaak"])
                return Change("besluit", actie, self._zaak_model(work, zaak),
                              besluit=self._besluit_model(work, besluit, zaak))
        except ZgwError as exc:
            if exc.status in (404, 410):  # gone since: nothing to tell
                return None
            raise
        return None

    def _notificaties(self) -> NotificatiesOptions:
        if self.notificaties is None:
            raise ValueError(f"target {self.name!r} has no notificaties option")
        return self.notificaties

    if TYPE_CHECKING:  # provided by the other mixins of the adapter
        def _zaak_model(self, work: Any, zaak: dict[str, Any]) -> Zaak: ...

        def _document_model(self, work: Any, eio: dict[str, Any], zaak_identificatie: str | None, *,
                            with_content: bool) -> Document: ...

        def _besluit_model(self, work: Any, besluit: dict[str, Any],
                           zaak: dict[str, Any] | None = None) -> Besluit: ...
