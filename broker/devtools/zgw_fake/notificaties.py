"""A minimal Notificaties API 1.0.0 (what Open Notificaties implements) beside the fake's ZGW APIs,
checked against its spec (``zgw/notificaties-1.0.0.yaml``) like every other request and response.

- ``POST/GET /notificaties/api/v1/abonnement`` and ``GET /kanaal``: a client registers a callback URL,
  the ``auth`` value to send it and the kanalen (``zaken``, ``documenten``, ``besluiten``, with
  filters on kenmerken) it wants;
- every successful write to the Zaken, Documenten or Besluiten API (create, update, partial_update,
  destroy of a resource) is announced as a ``Message`` (kanaal, hoofdObject, resource, resourceUrl,
  actie, aanmaakdatum, kenmerken as Open Zaak sends them), which is checked against the spec's
  ``Message`` schema (a mismatch is a violation: a bug in the fake) and POSTed to every matching
  abonnement's callback with its ``auth`` as the Authorization header, one after the other in the
  order of the writes, from a thread of its own (Open Notificaties sends asynchronously).

``fake.notificaties.sent`` lists what was sent and the callback's answer; ``wait_sent(n)`` waits for n.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from .resources import HANDLERS
from .resources.common import Call, Reply
from .specs import LoadedSpec, base_path
from .state import now_iso

if TYPE_CHECKING:
    from .server import ZGWFake

API = "notificaties"
KANALEN = {"zaken": ("bronorganisatie", "zaaktype", "vertrouwelijkheidaanduiding"),
           "documenten": ("bronorganisatie", "informatieobjecttype", "vertrouwelijkheidaanduiding"),
           "besluiten": ("verantwoordelijkeOrganisatie", "besluittype")}
#: collection -> (kanaal, resource name, the field naming its hoofdObject; None: itself)
RESOURCES: dict[str, tuple[str, str, str | None]] = {
    "zaken": ("zaken", "zaak", None),
    "statussen": ("zaken", "status", "zaak"),
    "rollen": ("zaken", "rol", "zaak"),
    "resultaten": ("zaken", "resultaat", "zaak"),
    "zaakinformatieobjecten": ("zaken", "zaakinformatieobject", "zaak"),
    "zaakobjecten": ("zaken", "zaakobject", "zaak"),
    "zaakeigenschappen": ("zaken", "zaakeigenschap", "zaak"),
    "enkelvoudiginformatieobjecten": ("documenten", "enkelvoudiginformatieobject", None),
    "besluiten": ("besluiten", "besluit", None),
    "besluitinformatieobjecten": ("besluiten", "besluitinformatieobject", "besluit"),
}
ACTIES = {"POST": ("create", 201), "PUT": ("update", 200), "PATCH": ("partial_update", 200),
          "DELETE": ("destroy", 204)}


@dataclass
class Sent:
    callback: str
    message: dict[str, Any]
    status: int | None  # the callback's HTTP status; None when it could not be reached
    error: str | None = None


class Notificaties:
    def __init__(self, fake: ZGWFake, spec: LoadedSpec) -> None:
        self.fake = fake
        self.spec = spec
        self.abonnementen: list[dict[str, Any]] = []
        #: every notification sent, in order, with the callback's answer
        self.sent: list[Sent] = []
        #: every notification announced (also those no abonnement wanted)
        self.announced: list[dict[str, Any]] = []
        #: set False to announce nothing
        self.enabled = True
        self._validator = OAS30Validator(spec.schema("Message"), format_checker=oas30_format_checker)
        self._outbox: queue.Queue[tuple[dict[str, Any], dict[str, Any]] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=10)

    # -- the API ------------------------------------------------------------------------------------
    def url(self) -> str:
        return self.fake.root_url + base_path(API)

    def abonnement_create(self, call: Call) -> Reply:
        ident = str(uuid.uuid4())
        body = call.body or {}
        abonnement = {"url": f"{self.url()}/abonnement/{ident}", "callbackUrl": body["callbackUrl"],
                      "auth": body["auth"], "kanalen": body["kanalen"]}
        self.abonnementen.append(abonnement)
        return Reply(201, abonnement, headers={"Location": abonnement["url"]})

    def abonnement_list(self, call: Call) -> Reply:
        return Reply(200, list(self.abonnementen))

    def kanaal_list(self, call: Call) -> Reply:
        naam = call.param("naam")
        kanalen = [{"url": f"{self.url()}/kanaal/{uuid.uuid5(uuid.NAMESPACE_URL, k)}", "naam": k,
                    "filters": list(filters)}
                   for k, filters in KANALEN.items() if naam in (None, k)]
        return Reply(200, kanalen)

    # -- announcing writes --------------------------------------------------------------------------
    def announce(self, api: str, method: str, path: str, reply: Reply) -> None:
        """The notification of a write the fake just made (called with the store locked)."""
        if not self.enabled or method not in ACTIES or api not in KANALEN:
            return
        actie, ok = ACTIES[method]
        if reply.status != ok:
            return
        segments = path[len(base_path(api)):].strip("/").split("/")
        collection = segments[-1] if method == "POST" else (segments[-2] if len(segments) >= 2 else "")
        if collection not in RESOURCES:  # sub-actions (lock, bestandsdelen, reservations, _zoek)
            return
        kanaal, resource, hoofd_field = RESOURCES[collection]
        body = reply.body if isinstance(reply.body, dict) else {}
        resource_url = body.get("url") if method == "POST" else self.fake.root_url + path
        if not resource_url:
            return
        if hoofd_field is None:
            hoofd = resource_url
        elif body.get(hoofd_field):
            hoofd = body[hoofd_field]
        else:  # a destroy: the hoofdObject is not known any more
            return
        message = {"kanaal": kanaal, "hoofdObject": hoofd, "resource": resource, "resourceUrl": resource_url,
                   "actie": actie, "aanmaakdatum": now_iso(), "kenmerken": self._kenmerken(kanaal, hoofd, body)}
        for problem in self._validator.iter_errors(message):
            self.fake.violations.append(f"notificatie {kanaal}/{resource} {actie}: {problem.message}")
        self.announced.append(message)
        for abonnement in list(self.abonnementen):
            if self._wants(abonnement, message):
                self._send(abonnement, message)

    def _kenmerken(self, kanaal: str, hoofd: str, body: dict[str, Any]) -> dict[str, str]:
        parsed = self.fake.store.parse_url(hoofd)
        obj = self.fake.store.get(*parsed) if parsed else None
        source = obj if obj is not None else body
        return {k: str(source[k]) for k in KANALEN[kanaal] if source.get(k)}

    @staticmethod
    def _wants(abonnement: dict[str, Any], message: dict[str, Any]) -> bool:
        for kanaal in abonnement.get("kanalen") or []:
            if kanaal.get("naam") != message["kanaal"]:
                continue
            filters = kanaal.get("filters") or {}
            if all(message["kenmerken"].get(k) == v or v == "*" for k, v in filters.items()):
                return True
        return False

    def _send(self, abonnement: dict[str, Any], message: dict[str, Any]) -> None:
        with self._lock:
            if self._sender is None or not self._sender.is_alive():
                self._sender = threading.Thread(target=self._run, name=f"zgw-fake-notificaties:{self.fake.port}",
                                                daemon=True)
                self._sender.start()
        self._outbox.put((abonnement, message))

    def _run(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            abonnement, message = item
            try:
                response = self._http.post(abonnement["callbackUrl"], json=message,
                                           headers={"Authorization": abonnement["auth"]})
                self.sent.append(Sent(abonnement["callbackUrl"], message, response.status_code))
            except httpx.HTTPError as exc:
                self.sent.append(Sent(abonnement["callbackUrl"], message, None, str(exc)))

    def wait_sent(self, count: int, timeout: float = 20.0) -> list[Sent]:
        """The first ``count`` notifications sent (waits until they are answered)."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.sent)} of {count} notifications sent")
            time.sleep(0.02)
        return self.sent[:count]

    def close(self) -> None:
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join(timeout=5)
            self._sender = None
        self._http.close()


def _of(call: Call) -> Notificaties:
    served: Notificaties = call.fake.notificaties
    return served


HANDLERS[API] = {
    "abonnement_create": lambda call: _of(call).abonnement_create(call),
    "abonnement_list": lambda call: _of(call).abonnement_list(call),
    "kanaal_list": lambda call: _of(call).kanaal_list(call),
}
