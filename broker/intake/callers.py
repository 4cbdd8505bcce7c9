"""Who is calling: the caller's proven identity, and whether it may send this message.

ZDS 1.2 §3 asks for two-way TLS and an authorisation per sending application. A request proves an
application (``applications.yaml``, broker.mappings.applications) by one or more of:

- a client certificate: verified by the broker's own TLS listener, or passed in a header by a
  trusted reverse proxy (only from the configured ``trusted_proxies`` addresses);
- HTTP basic authentication;
- a WS-Security UsernameToken in the SOAP header (PasswordText or PasswordDigest; a Nonce is accepted
  once, and Created must lie within the window).

All proofs in one request must name the same application; with ``require: all`` every kind that
application is configured for must be there. The proven application must be the zender of the
stuurgegevens, and may send only its configured operations (and zaaktypen): otherwise StUF052.
With no applications configured the broker serves loopback callers only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import ipaddress
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lxml import etree
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from broker.errors import StufError
from broker.intake.tables import UsedNonce
from broker.mappings.applications import Application, Applications, fingerprint
from broker.store.db import Database
from broker.stuf.stuurgegevens import Stuurgegevens

if TYPE_CHECKING:
    from cryptography import x509

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "#PasswordDigest"
_SKEW_SECONDS = 60  # how far in the future a Created may lie (clocks differ)


@dataclass(frozen=True)
class Transport:
    """What the edge knows of the connection a request came on."""

    peer: str | None = None
    #: DER of the client certificate the broker's TLS listener verified
    certificate: bytes | None = None
    #: HTTP headers, lower-case names
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    """A proven application, or None for a loopback caller while no applications are configured."""

    application: Application | None
    proofs: frozenset[str] = frozenset()


def _refused(omschrijving: str, details: str | None = None) -> StufError:
    return StufError("StUF052", omschrijving, details, http_status=401)


@functools.lru_cache(maxsize=1024)  # (callers come from a few addresses; parsing one costs 5 µs)
def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class Nonces:
    """UsernameToken nonces seen within the window: each is accepted once, in every process that
    shares the database (``used_nonces``); without a database, once in this process."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._inserts = 0

    def first_use(self, nonce: str, window: float) -> bool:
        if self.db is not None:
            return self._first_use_shared(nonce[:200], window)
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if self._seen.get(nonce, 0) > now:
                return False
            self._seen[nonce] = now + window
            return True

    def _first_use_shared(self, nonce: str, window: float) -> bool:
        assert self.db is not None
        now = datetime.now(UTC)
        try:
            with self.db.write() as s:
                self._inserts += 1
                if self._inserts % 100 == 1:  # now and then: forget the nonces whose window is over
                    s.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
                existing = s.get(UsedNonce, nonce)
                if existing is not None:
                    expires = existing.expires_at if existing.expires_at.tzinfo else existing.expires_at.replace(tzinfo=UTC)
                    if expires > now:
                        return False
                    s.delete(existing)
                    s.flush()
                s.add(UsedNonce(nonce=nonce, expires_at=now + timedelta(seconds=window)))
            return True
        except IntegrityError:  # another process accepted the same nonce at the same moment
            return False


class Authenticator:
    def __init__(self, applications: Applications, db: Database | None = None) -> None:
        self.applications = applications
        self.nonces = Nonces(db)

    def may_block(self, transport: Transport, body: bytes, soap_headers: list[etree._Element] | None = None) -> bool:
        """Whether checking this caller may take long or wait on the database (an argon2 password
        hash for HTTP basic; the UsernameToken's nonce, stored to refuse its reuse): then the edge
        runs it in a handler thread, not on its event loop. Asked before the body is parsed (its
        bytes), so that such a request is parsed once, in the thread; and with the parsed SOAP
        headers, for a body whose encoding hides the word from the bytes."""
        if not self.applications.configured:
            return False
        if transport.headers.get("authorization", "")[:6].lower() == "basic ":
            return True
        if soap_headers is None:
            return b"Security" in body
        return any(header.tag == f"{{{WSSE}}}Security" for header in soap_headers)

    def authenticate(self, transport: Transport, soap_headers: list[etree._Element]) -> Caller:
        registry = self.applications
        if not registry.configured:
            if _loopback(transport.peer):
                return Caller(None)
            raise _refused("Deze broker neemt alleen berichten van deze machine aan",
                           "er zijn geen applicaties geconfigureerd (applications.yaml)")
        proven: dict[str, Application] = {}
        cert = self._certificate(transport)
        if cert is not None:
            from cryptography.hazmat.primitives.serialization import Encoding

            app = registry.by_certificate(fingerprint(cert.public_bytes(Encoding.DER)), cert.subject.rfc4514_string())
            if app is None:
                raise _refused("Het clientcertificaat hoort bij geen bekende applicatie")
            proven["certificate"] = app
        basic = self._basic(transport)
        if basic is not None:
            proven["basic"] = basic
        token = self._usernametoken(soap_headers)
        if token is not None:
            proven["usernametoken"] = token
        if not proven:
            raise _refused("De aanroeper is niet geauthenticeerd",
                           "gebruik een clientcertificaat, HTTP basic of een WS-Security UsernameToken")
        apps = {id(a): a for a in proven.values()}
        if len(apps) > 1:
            raise _refused("De bewijzen in dit verzoek horen bij verschillende applicaties")
        app = next(iter(apps.values()))
        missing = app.kinds() - set(proven) if app.authentication.require == "all" else set()
        if missing:
            raise _refused(f"Applicatie {app.name} moet zich ook bewijzen met: {', '.join(sorted(missing))}")
        return Caller(app, frozenset(proven))

    # -- proofs ----------------------------------------------------------------------------------
    def _certificate(self, transport: Transport) -> x509.Certificate | None:
        # cryptography is imported when a certificate comes: imported by every worker it costs 10 MB
        if transport.certificate:
            from cryptography import x509

            return x509.load_der_x509_certificate(transport.certificate)
        header = transport.headers.get(self.applications.settings.proxy_certificate_header)
        if not header:
            return None
        if not self.applications.trusted_proxy(transport.peer):
            raise _refused("Een clientcertificaat in een header wordt alleen van een vertrouwde proxy aangenomen")
        from cryptography import x509

        try:
            return x509.load_pem_x509_certificate(unquote(header).encode())
        except ValueError:
            raise _refused("Het clientcertificaat in de header is onleesbaar") from None

    def _basic(self, transport: Transport) -> Application | None:
        header = transport.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _refused("De HTTP basic-gegevens zijn onleesbaar") from None
        app = self.applications.by_username("basic", username)
        if app is None or not app.check_basic(password):
            raise _refused("Gebruikersnaam of wachtwoord (HTTP basic) onjuist")
        return app

    def _usernametoken(self, soap_headers: list[etree._Element]) -> Application | None:
        token = None
        for header in soap_headers:
            if header.tag == f"{{{WSSE}}}Security":
                token = header.find(f"{{{WSSE}}}UsernameToken")
                break
        if token is None:
            return None
        username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password_el = token.find(f"{{{WSSE}}}Password")
        if not username or password_el is None:
            raise _refused("De UsernameToken mist Username of Password")
        nonce = (token.findtext(f"{{{WSSE}}}Nonce") or "").strip()
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        window = self.applications.settings.usernametoken_window_seconds
        if created and not _recent(created, window):
            raise _refused("De UsernameToken is verlopen of uit de toekomst (Created)")
        app = self.applications.by_username("usernametoken", username)
        secret = app.password("usernametoken") if app is not None else None
        given = password_el.text or ""
        if (password_el.get("Type") or "").endswith(_DIGEST):
            if not nonce or not created:
                raise _refused("Een PasswordDigest vraagt om Nonce en Created")
            try:
                raw_nonce = base64.b64decode(nonce, validate=True)
            except binascii.Error:
                raise _refused("De Nonce van de UsernameToken is geen base64") from None
            expected = (base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + secret.encode()).digest()).decode()
                        if secret is not None else "")
            ok = secret is not None and hmac.compare_digest(expected, given.strip())
        else:
            ok = secret is not None and hmac.compare_digest(secret.encode(), given.encode())
        if not ok or app is None:
            raise _refused("Gebruikersnaam of wachtwoord (UsernameToken) onjuist")
        if nonce and not self.nonces.first_use(nonce, window + _SKEW_SECONDS):
            raise _refused("Deze UsernameToken is al eerder gebruikt (Nonce)")
        return app


def _recent(created: str, window: int) -> bool:
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    age = (datetime.now(UTC) - moment).total_seconds()
    return -_SKEW_SECONDS <= age <= window


def authorise(caller: Caller, sg: Stuurgegevens, operation: str | None, zaaktype: str | None = None) -> None:
    """The proven application must be the message's zender and may send this operation (StUF052)."""
    app = caller.application
    if app is None:
        return
    zender = sg.zender
    if zender is None or zender.applicatie != app.applicatie or (
            app.organisatie is not None and zender.organisatie != app.organisatie):
        named = f"{zender.organisatie}/{zender.applicatie}" if zender else "(geen)"
        raise StufError("StUF052", f"De zender {named} is niet de aangemelde applicatie {app.name}")
    if not app.may(operation, zaaktype):
        what = f"{operation}" + (f" voor zaaktype {zaaktype}" if zaaktype else "")
        raise StufError("StUF052", f"Applicatie {app.name} is niet geautoriseerd voor {what}")


__all__ = ["Authenticator", "Caller", "Transport", "authorise", "WSSE", "WSU"]
