"""What the targets that send an application kennisgevingen share: the StUF-ZKN subscribers
(broker.adapters.subscriber) and the StUF-BG afnemers (broker.adapters.afnemer).

- :class:`KennisgevingTarget`: one application's OntvangAsynchroon endpoint. It keeps the
  kennisgeving's referentienummer and tijdstipBericht with the delivery (a step made at the first
  attempt, so a retry sends the very same message, StUF 03.01 §4.4.3), wraps the message in a SOAP
  envelope with the configured WS-Security header, posts it authenticated as configured
  (broker.adapters.outbound) and expects Bv03; a Fo03 decides a retry by its plek.
- :class:`ApplicationTargets`: one such target per application of the applications registry in use,
  rebuilt when a new version of ``applications.yaml`` is taken into use (an application whose block
  did not change keeps its object; the others are retired and closed with the broker, a delivery may
  still be on one).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import httpx
from lxml import etree

from broker.adapters.http import HttpErrors, calling, correlation_headers, describe
from broker.adapters.outbound import client_options, read_answer, usernametoken_header
from broker.adapters.targets import default_retryable
from broker.errors import AdapterError
from broker.mappings.applications import Application, Applications
from broker.model.ports import Context, Health
from broker.stuf import ns, soap
from broker.stuf.stuurgegevens import new_referentienummer, now_tijdstip

#: the delivery step that keeps the kennisgeving's referentienummer and tijdstipBericht
STEP = "kennisgeving"


class KennisgevingTarget(HttpErrors):
    """An application told of changes at its OntvangAsynchroon endpoint. ``config`` is its block of
    applications.yaml (url, timeout, soap_version, authentication, ca_file)."""

    shares_transaction = False

    def __init__(self, app: Application, config: Any, name: str) -> None:
        self.app = app
        self.config = config
        self.name = name
        self.http = httpx.Client(timeout=config.timeout, headers={"User-Agent": "stuf-broker"},
                                 **client_options(config.authentication, config.ca_file))

    def made(self, ctx: Context) -> dict[str, str]:
        """The kennisgeving's referentienummer and tijdstipBericht: made at the first attempt, kept."""
        made: dict[str, str] | None = ctx.step_done(STEP)
        if not made:
            made = {"referentienummer": new_referentienummer(), "tijdstipBericht": now_tijdstip()}
            ctx.mark_step(STEP, made)  # before sending: a retry sends the same (§4.4.3)
        return made

    def envelope(self, element: etree._Element) -> bytes:
        """``element`` in this application's SOAP envelope, with its WS-Security header if any."""
        env = soap.envelope(self.config.soap_version, element)
        security = usernametoken_header(self.config.authentication)
        if security is not None:
            header = env.makeelement(ns.q(ns.namespace(env.tag), "Header"))
            header.append(security)
            env.insert(0, header)
        return soap.to_bytes(env)

    def post(self, element: str, action: str, content: bytes | Iterator[bytes],
             headers: dict[str, str] | None = None) -> etree._Element:
        """POST the kennisgeving ``element`` with ``action``; its Bv03, else an AdapterError."""
        headers = {"Content-Type": soap.content_type(self.config.soap_version), "SOAPAction": f'"{action}"',
                   **correlation_headers(), **(headers or {})}
        where = f"{self.name}: POST {element}"
        with calling(where, self.config.timeout):
            response = self.http.post(self.config.url, content=content, headers=headers)
        answer = read_answer(response, where, type(self), fault_where=self.name)
        if ns.local(answer.tag) != "Bv03Bericht":
            raise AdapterError(f"{where}: answered {ns.local(answer.tag)} instead of Bv03", retryable=False,
                               target_answer=response.text[:20000])
        return answer

    def check(self) -> Health:
        try:
            r = self.http.get(self.config.url, params={"wsdl": ""}, timeout=min(self.config.timeout, 5))
            return Health(r.status_code < 500, f"HTTP {r.status_code}")
        except httpx.RequestError as exc:
            return Health(False, describe(exc, min(self.config.timeout, 5)))

    def retryable(self, exc: BaseException) -> bool:
        return default_retryable(exc)

    def close(self) -> None:
        self.http.close()


T = TypeVar("T", bound=KennisgevingTarget)


class ApplicationTargets(Generic[T]):
    """The targets of the applications registry in use; follows hot reloads of applications.yaml.
    A subclass names its target ``prefix`` and says which applications are targets, what block of
    theirs a target is built from and how it is built."""

    prefix: str

    def __init__(self, applications: Applications) -> None:
        self.applications = applications
        self._lock = threading.Lock()
        self._model: object = None
        self._targets: dict[str, T] = {}
        #: targets of an earlier version, closed with the broker (a delivery may still be on one)
        self.retired: list[T] = []

    def applications_of(self, applications: Applications) -> list[Application]:
        raise NotImplementedError

    def block(self, app: Application) -> object:
        """The part of ``app`` a target is built from: an unchanged block keeps the target."""
        raise NotImplementedError

    def build(self, app: Application) -> T:
        raise NotImplementedError

    def target_name(self, app: Application) -> str:
        return f"{self.prefix}{app.name}"[:60]

    def _current(self) -> dict[str, T]:
        model = self.applications.settings
        if model is self._model:
            return self._targets
        with self._lock:
            if model is not self._model:
                built: dict[str, T] = {}
                for app in self.applications_of(self.applications):
                    name = self.target_name(app)
                    old = self._targets.get(name)
                    if old is not None and old.config == self.block(app) and old.app.systeem == app.systeem:
                        built[name] = old
                    else:
                        built[name] = self.build(app)
                self.retired += [t for n, t in self._targets.items() if built.get(n) is not t]
                self._targets, self._model = built, model
        return self._targets

    def get(self, name: str) -> T | None:
        return self._current().get(name) if name.startswith(self.prefix) else None

    def names(self) -> list[str]:
        return list(self._current())

    def close(self) -> None:
        for target in [*self._targets.values(), *self.retired]:
            target.close()
