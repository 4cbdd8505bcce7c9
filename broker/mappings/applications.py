"""The one registry of the applications the broker knows: ``applications.yaml``.

Each application is a StUF identity (organisatie + applicatie, as its stuurgegevens name it as zender),
how it proves that identity to the broker, and what it may ask. The StUF-BG afnemersindicaties and
the subscribers (endpoints, outbound authentication, subscriptions) extend these same entries.

    trusted_proxies: [10.0.0.5/32]        # may pass a verified client certificate in a header
    applications:
      - organisatie: "1900"
        applicatie: FORMS
        authentication:                    # any one proves the identity (require: all: every one)
          certificate: {fingerprint_sha256: "3f:9a:..."}     # or subject: "CN=forms.gemeente.nl"
          basic: {username: forms, password_env: FORMS_PASSWORD}
          usernametoken: {username: forms, password_env: FORMS_WSS_PASSWORD}
        operations: [creeerZaak, geefZaakdetails]           # or ["*"]
        zaaktypen: [SHV]                                     # optional
        tolerances: [actualiseerzaakstatus_mutatiesoort_t]   # optional: broker.zds.tolerances
        subscriber:                        # optional: it is told of changes (StUF-ZKN kennisgevingen)
          url: https://perspectief.gemeente.nl/zds/OntvangAsynchroon
          zds: "1.2"                       # or "1.1": zakLk01/edcLk01/bslLk01 in the StUF-ZKN namespace
          authentication:                  # how the broker proves itself to it (any combination)
            certificate: {cert_file: /etc/broker/client.pem, key_file: /etc/broker/client.key}
            basic: {username: broker, password_env: PERSPECTIEF_PASSWORD}
            usernametoken: {username: broker, password_env: PERSPECTIEF_WSS_PASSWORD}
          ca_file: /etc/broker/perspectief-ca.pem    # optional: the CA its TLS certificate is checked with
          operations: [creeerZaak, voegZaakdocumentToe]   # default: every change
          zaaktypen: [SHV]                 # optional
          zenders: [FORMS]                 # optional: only changes sent by these applicaties
          bsn: false                       # BSNs are sent as noValue nietGeautoriseerd unless true
          max_document_bytes: 1048576      # larger document content is left out (nietGeautoriseerd)
        afnemer:                           # optional: StUF-BG npsLk01 about the persons it holds an
          url: https://forms.gemeente.nl/bg/OntvangAsynchroon  # afnemerindicatie for (broker.adapters.afnemer)
          authentication: {basic: {username: broker, password_env: FORMS_BG_PASSWORD}}  # as subscriber
      - organisatie: "1900"
        applicatie: BRPKOPPELING
        authentication: {certificate: {subject: "CN=brp-koppeling.gemeente.nl"}}
        operations: [npsLk01]
        person_source: true                # its npsLk01 are mutations of persons, distributed to the
                                           # afnemers; anyone else's npsLk01 T/V places/removes its indicatie

Secrets are never in the file itself: ``password_env`` names an environment variable (basic may use
``password_argon2``, an Argon2id hash, instead). Without the file, or with no applications in it,
the broker serves loopback callers only (see broker.intake.callers). ``tolerances`` names deviations
from the standard the broker accepts from this zender, from the fixed list in broker.zds.tolerances
(strict by default; each applied one is recorded on the message).
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import ipaddress
import os
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from broker.bg.operations import NAMES as BG_NAMES
from broker.errors import ConfigError, ConfigProblem
from broker.stuf.stuurgegevens import Systeem
from broker.yamlfile import Loc, compose, line_for, problems_from
from broker.zds.operations import BY_NAME
from broker.zds.tolerances import KNOWN as KNOWN_TOLERANCES

FILENAME = "applications.yaml"
_HASHER = PasswordHasher()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CertificateAuth(_Strict):
    """A client certificate (mutual TLS, or a trusted proxy's header) that proves the identity."""

    subject: str | None = None
    fingerprint_sha256: str | None = None

    @field_validator("fingerprint_sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        plain = value.replace(":", "").replace(" ", "").lower()
        if len(plain) != 64 or any(c not in "0123456789abcdef" for c in plain):
            raise ValueError("give the SHA-256 fingerprint as 64 hexadecimal digits (colons allowed)")
        return plain

    @model_validator(mode="after")
    def _something(self) -> CertificateAuth:
        if not self.subject and not self.fingerprint_sha256:
            raise ValueError("give subject or fingerprint_sha256")
        return self


class PasswordAuth(_Strict):
    username: str = Field(min_length=1)
    #: the environment variable that holds the password
    password_env: str | None = None
    #: an Argon2id hash of the password (HTTP basic only: a UsernameToken digest needs the password)
    password_argon2: str | None = None


class Authentication(_Strict):
    certificate: CertificateAuth | None = None
    basic: PasswordAuth | None = None
    usernametoken: PasswordAuth | None = None
    #: any: one proof suffices; all: every configured kind must be proven in the same request
    require: Literal["any", "all"] = "any"

    @model_validator(mode="after")
    def _one(self) -> Authentication:
        if not (self.certificate or self.basic or self.usernametoken):
            raise ValueError("give at least one of certificate, basic, usernametoken")
        if self.usernametoken and self.usernametoken.password_argon2:
            raise ValueError("usernametoken: a password digest needs the password itself: use password_env")
        return self


#: the operations that change a zaak, its status, a document or a besluit: each is told to subscribers
KENNISGEVING_OPERATIONS = ("creeerZaak", "updateZaak", "actualiseerZaakstatus", "voegZaakdocumentToe",
                           "maakZaakdocument", "updateZaakdocument", "voegBesluitToe", "updateBesluit")


class OutboundCertificate(_Strict):
    """The client certificate (PEM files) the broker presents to a subscriber."""

    cert_file: str = Field(min_length=1)
    key_file: str | None = None


class OutboundPassword(_Strict):
    username: str = Field(min_length=1)
    #: the environment variable that holds the password the broker sends
    password_env: str = Field(min_length=1)


class OutboundUsernameToken(OutboundPassword):
    #: PasswordDigest (with Nonce and Created) or PasswordText
    digest: bool = True


class OutboundAuthentication(_Strict):
    """How the broker proves its identity to another system (any combination is sent together)."""

    certificate: OutboundCertificate | None = None
    basic: OutboundPassword | None = None
    usernametoken: OutboundUsernameToken | None = None


class SubscriberCodes(_Strict):
    """A subscriber's own codes for the broker's (those of the zaaktypecatalogus and the mappings),
    applied to every kennisgeving it is told; a code not listed is sent as it is."""

    #: zaaktype code -> its own (the zaak's isVan code, a status's zkt.code), e.g. {SHV: SCHULD}
    zaaktypen: dict[str, str] = {}
    #: status code -> its own (a status's code), e.g. {SHV-2: INTAKE}
    statussen: dict[str, str] = {}
    #: document type (dct.omschrijving) -> its own, e.g. {Brief: UITGAANDE BRIEF}
    documenttypen: dict[str, str] = {}


class Subscriber(_Strict):
    """Where and how an application is told of changes (broker.adapters.subscriber)."""

    #: the application's OntvangAsynchroon endpoint (the full URL)
    url: str = Field(pattern=r"^https?://")
    #: the ZDS shape it speaks: "1.2" (the zds0120 elements) or "1.1" (zakLk01/edcLk01/bslLk01)
    zds: Literal["1.2", "1.1"] = "1.2"
    soap_version: Literal["1.1", "1.2"] = "1.1"
    timeout: float = Field(10.0, gt=0, le=3600)
    authentication: OutboundAuthentication | None = None
    #: the CA (PEM) its TLS certificate is checked with; default: the system's
    ca_file: str | None = None
    #: which changes it is told of (default: all of KENNISGEVING_OPERATIONS)
    operations: list[str] = ["*"]
    zaaktypen: list[str] | None = None
    #: only changes sent by these applicaties (a change it sent itself is never sent back)
    zenders: list[str] | None = None
    #: whether it may receive BSNs (else each is sent as noValue nietGeautoriseerd)
    bsn: bool = False
    #: document content larger than this many bytes is left out (noValue nietGeautoriseerd)
    max_document_bytes: int | None = Field(None, ge=0)
    #: its own zaaktype, status and document type codes, applied to what it is told
    codes: SubscriberCodes | None = None
    active: bool = True

    @field_validator("zds", "soap_version", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return f"{value:.1f}" if isinstance(value, float) else value  # YAML reads 1.2 as a number


class Afnemer(_Strict):
    """Where and how an application is told of changes to the persons it holds an afnemerindicatie
    for: StUF-BG ``npsLk01`` to its OntvangAsynchroon endpoint (broker.adapters.afnemer)."""

    #: the application's StUF-BG OntvangAsynchroon endpoint (the full URL)
    url: str = Field(pattern=r"^https?://")
    soap_version: Literal["1.1", "1.2"] = "1.1"
    timeout: float = Field(10.0, gt=0, le=3600)
    authentication: OutboundAuthentication | None = None
    #: the CA (PEM) its TLS certificate is checked with; default: the system's
    ca_file: str | None = None
    active: bool = True

    @field_validator("soap_version", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return f"{value:.1f}" if isinstance(value, float) else value


class ApplicationEntry(_Strict):
    organisatie: str | None = None
    applicatie: str = Field(min_length=1)
    authentication: Authentication
    operations: list[str] = ["*"]
    zaaktypen: list[str] | None = None
    #: deviations from the standard accepted from this zender (broker.zds.tolerances)
    tolerances: list[str] = []
    #: told of changes made through the broker (StUF-ZKN kennisgevingen), when given
    subscriber: Subscriber | None = None
    #: told of changes to the persons it holds an afnemerindicatie for (StUF-BG npsLk01), when given
    afnemer: Afnemer | None = None
    #: a source of persons (e.g. the BRP-koppeling): its npsLk01 are distributed to the afnemers
    person_source: bool = False


class ApplicationsFile(_Strict):
    trusted_proxies: list[str] = []
    #: the header in which a trusted proxy passes the verified client certificate (PEM, URL-escaped)
    proxy_certificate_header: str = "x-ssl-client-cert"
    #: how far a UsernameToken's Created may lie from now, and how long its Nonce is remembered
    usernametoken_window_seconds: int = Field(300, ge=10, le=3600)
    applications: list[ApplicationEntry] = []


@dataclass(frozen=True)
class Application:
    """A known application: its StUF identity, how it proves it, and what it may ask."""

    organisatie: str | None
    applicatie: str
    authentication: Authentication
    operations: frozenset[str]
    zaaktypen: frozenset[str] | None
    tolerances: frozenset[str] = frozenset()
    subscriber: Subscriber | None = None
    afnemer: Afnemer | None = None
    person_source: bool = False

    @property
    def name(self) -> str:
        return f"{self.organisatie}/{self.applicatie}" if self.organisatie else self.applicatie

    def kinds(self) -> set[str]:
        """The kinds of proof this application is configured for."""
        a = self.authentication
        return {k for k, v in (("certificate", a.certificate), ("basic", a.basic),
                               ("usernametoken", a.usernametoken)) if v is not None}

    def may(self, operation: str | None, zaaktype: str | None = None) -> bool:
        if "*" not in self.operations and (operation or "").lower() not in self.operations:
            return False
        return self.zaaktypen is None or zaaktype is None or zaaktype in self.zaaktypen

    @property
    def systeem(self) -> Systeem:
        """Its StUF identity, as the ontvanger of what the broker sends it."""
        return Systeem(self.organisatie, self.applicatie)

    def is_zender(self, zender: Systeem | None) -> bool:
        """Whether ``zender`` (a message's stuurgegevens) names this application."""
        return (zender is not None and zender.applicatie == self.applicatie
                and (self.organisatie is None or zender.organisatie in (None, self.organisatie)))

    def subscribed(self, operation: str, zender: Systeem | None, zaaktype: str | None) -> bool:
        """Whether it is told of this change: an active subscriber whose filters match, never its own."""
        sub = self.subscriber
        if sub is None or not sub.active or self.is_zender(zender):
            return False
        if operation not in KENNISGEVING_OPERATIONS:
            return False
        if "*" not in sub.operations and operation.lower() not in {o.lower() for o in sub.operations}:
            return False
        if sub.zaaktypen is not None and zaaktype not in sub.zaaktypen:
            return False
        return sub.zenders is None or (zender is not None and zender.applicatie in sub.zenders)

    def password(self, kind: str) -> str | None:
        """The configured password for ``basic`` or ``usernametoken`` (None when only a hash is kept)."""
        auth = getattr(self.authentication, kind)
        return os.environ.get(auth.password_env) if auth is not None and auth.password_env else None

    def check_basic(self, password: str) -> bool:
        auth = self.authentication.basic
        if auth is None:
            return False
        if auth.password_argon2:
            try:
                return _HASHER.verify(auth.password_argon2, password)
            except (VerificationError, InvalidHashError):
                return False
        known = self.password("basic")
        return known is not None and hmac.compare_digest(known.encode(), password.encode())


class Applications:
    """The registry in use; swapped whole on a new version (:meth:`take_over`)."""

    def __init__(self, model: ApplicationsFile | None = None) -> None:
        self.take_over(model or ApplicationsFile())

    def take_over(self, model: ApplicationsFile) -> None:
        apps = [Application(e.organisatie, e.applicatie, e.authentication,
                            frozenset(o.lower() for o in e.operations),
                            frozenset(e.zaaktypen) if e.zaaktypen is not None else None,
                            frozenset(e.tolerances), e.subscriber, afnemer=e.afnemer, person_source=e.person_source)
                for e in model.applications]
        self.settings = model
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in model.trusted_proxies]
        self.all = apps
        self._by_fingerprint = {a.authentication.certificate.fingerprint_sha256: a for a in apps
                                if a.authentication.certificate and a.authentication.certificate.fingerprint_sha256}
        self._by_subject = {a.authentication.certificate.subject: a for a in apps
                            if a.authentication.certificate and a.authentication.certificate.subject}
        self._by_username = {(kind, getattr(a.authentication, kind).username): a for a in apps
                             for kind in ("basic", "usernametoken") if getattr(a.authentication, kind)}
        self._tolerant = [a for a in apps if a.tolerances]

    @property
    def configured(self) -> bool:
        return bool(self.all)

    @property
    def subscribers(self) -> list[Application]:
        """The applications with a subscriber block (active or not)."""
        return [a for a in self.all if a.subscriber is not None]

    @property
    def afnemers(self) -> list[Application]:
        """The applications with an afnemer block (StUF-BG npsLk01 endpoint; active or not)."""
        return [a for a in self.all if a.afnemer is not None]

    def person_source(self, zender: Systeem | None) -> bool:
        """Whether ``zender`` is a registered person source: its npsLk01 is a mutation to distribute."""
        return any(a.person_source and a.is_zender(zender) for a in self.all)

    def trusted_proxy(self, address: str | None) -> bool:
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    def by_certificate(self, fingerprint_sha256: str, subject: str) -> Application | None:
        return self._by_fingerprint.get(fingerprint_sha256) or self._by_subject.get(subject)

    def by_username(self, kind: str, username: str) -> Application | None:
        return self._by_username.get((kind, username))

    def tolerances_of(self, zender: Systeem | None) -> frozenset[str]:
        """The tolerances granted to the application that is this zender (none for an unknown one).
        When applications are configured, every caller has proven to be its zender (StUF052)."""
        if zender is None or not self._tolerant:
            return frozenset()
        for app in self._tolerant:
            if app.applicatie == zender.applicatie and (app.organisatie is None
                                                         or app.organisatie == zender.organisatie):
                return app.tolerances
        return frozenset()


def _subscriber_problems(sub: Subscriber, filename: str, lines: dict[Loc, int], where: Loc) -> list[ConfigProblem]:
    problems = []
    known = {o.lower(): o for o in KENNISGEVING_OPERATIONS}
    for j, operation in enumerate(sub.operations):
        if operation != "*" and operation.lower() not in known:
            close = difflib.get_close_matches(operation, list(KENNISGEVING_OPERATIONS), n=1)
            problems.append(ConfigProblem(filename, line_for(lines, where + ("operations", j)),
                                          f"subscriber: {operation!r} is not a change subscribers are told of "
                                          f"(known: {', '.join(KENNISGEVING_OPERATIONS)})", close[0] if close else None))
    auth = sub.authentication
    for kind in ("basic", "usernametoken"):
        given = getattr(auth, kind) if auth is not None else None
        if given is not None and given.password_env not in os.environ:
            problems.append(ConfigProblem(filename, line_for(lines, where + ("authentication", kind)),
                                          f"subscriber {kind}: environment variable {given.password_env} is not set"))
    files: list[tuple[str, str | None, Loc]] = [("ca_file", sub.ca_file, ("ca_file",))]
    if auth is not None and auth.certificate is not None:
        files += [("cert_file", auth.certificate.cert_file, ("authentication", "certificate", "cert_file")),
                  ("key_file", auth.certificate.key_file, ("authentication", "certificate", "key_file"))]
    for label, path, at in files:
        if path is not None and not os.path.isfile(path):
            problems.append(ConfigProblem(filename, line_for(lines, where + at),
                                          f"subscriber {label}: no file {path}"))
    return problems


def _afnemer_problems(afnemer: Afnemer, filename: str, lines: dict[Loc, int], where: Loc) -> list[ConfigProblem]:
    problems = []
    auth = afnemer.authentication
    for kind in ("basic", "usernametoken"):
        given = getattr(auth, kind) if auth is not None else None
        if given is not None and given.password_env not in os.environ:
            problems.append(ConfigProblem(filename, line_for(lines, where + ("authentication", kind)),
                                          f"afnemer {kind}: environment variable {given.password_env} is not set"))
    files: list[tuple[str, str | None, Loc]] = [("ca_file", afnemer.ca_file, ("ca_file",))]
    if auth is not None and auth.certificate is not None:
        files += [("cert_file", auth.certificate.cert_file, ("authentication", "certificate", "cert_file")),
                  ("key_file", auth.certificate.key_file, ("authentication", "certificate", "key_file"))]
    for label, path, at in files:
        if path is not None and not os.path.isfile(path):
            problems.append(ConfigProblem(filename, line_for(lines, where + at), f"afnemer {label}: no file {path}"))
    return problems


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def parse_applications(text: str, filename: str) -> ApplicationsFile:
    """The file's model, or ConfigError with every problem at its line."""
    data, lines = compose(text, filename)
    try:
        model = ApplicationsFile.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, filename, lines, ApplicationsFile)) from None
    problems: list[ConfigProblem] = []
    for i, proxy in enumerate(model.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(ConfigProblem(filename, line_for(lines, ("trusted_proxies", i)),
                                          f"trusted_proxies: {proxy!r} is not an address or network"))
    seen: dict[tuple[str | None, str], int] = {}
    usernames: dict[tuple[str, str], int] = {}
    for i, app in enumerate(model.applications):
        where = ("applications", i)
        identity = (app.organisatie, app.applicatie)
        if identity in seen:
            problems.append(ConfigProblem(filename, line_for(lines, where + ("applicatie",)),
                                          f"application {app.applicatie!r} is also entry {seen[identity] + 1}"))
        seen[identity] = i
        for j, operation in enumerate(app.operations):
            if operation != "*" and operation.lower() not in BY_NAME and operation not in BG_NAMES:
                close = difflib.get_close_matches(operation, [op.name for op in BY_NAME.values()], n=1)
                problems.append(ConfigProblem(filename, line_for(lines, where + ("operations", j)),
                                              f"unknown operation {operation!r}", close[0] if close else None))
        for j, tolerance in enumerate(app.tolerances):
            if tolerance not in KNOWN_TOLERANCES:
                close = difflib.get_close_matches(tolerance, list(KNOWN_TOLERANCES), n=1)
                problems.append(ConfigProblem(filename, line_for(lines, where + ("tolerances", j)),
                                              f"unknown tolerance {tolerance!r} (known: "
                                              f"{', '.join(KNOWN_TOLERANCES)})", close[0] if close else None))
        for kind in ("basic", "usernametoken"):
            auth = getattr(app.authentication, kind)
            if auth is None:
                continue
            key = (kind, auth.username)
            if key in usernames:
                problems.append(ConfigProblem(filename, line_for(lines, where + ("authentication", kind)),
                                              f"{kind} username {auth.username!r} is also used by entry "
                                              f"{usernames[key] + 1}"))
            usernames[key] = i
            if not auth.password_env and not auth.password_argon2:
                problems.append(ConfigProblem(filename, line_for(lines, where + ("authentication", kind)),
                                              f"{kind}: give password_env (or, for basic, password_argon2)"))
            elif auth.password_env and auth.password_env not in os.environ:
                problems.append(ConfigProblem(filename, line_for(lines, where + ("authentication", kind)),
                                              f"{kind}: environment variable {auth.password_env} is not set"))
        if app.subscriber is not None:
            problems += _subscriber_problems(app.subscriber, filename, lines, where + ("subscriber",))
        if app.afnemer is not None:
            problems += _afnemer_problems(app.afnemer, filename, lines, where + ("afnemer",))
    if problems:
        raise ConfigError(problems)
    return model


__all__ = ["FILENAME", "KENNISGEVING_OPERATIONS", "Afnemer", "Application", "Applications", "ApplicationsFile",
           "OutboundAuthentication", "Subscriber", "fingerprint", "parse_applications"]
