"""The broker's settings: ``<config dir>/broker.yaml`` plus environment overrides.

``stuf-broker serve --config DIR`` replaces the whole configuration directory; every file in it is
validated at start-up with file:line errors (broker.yamlfile). Environment variables override single
settings for deployments: ``STUF_BROKER_DATABASE_URL``, ``STUF_BROKER_DATA_DIR``, ``STUF_XSD_DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from broker.errors import ConfigError, ConfigProblem
from broker.yamlfile import load_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PROJECT_ROOT / "config"
MANIFEST = PROJECT_ROOT / "xsd" / "MANIFEST.sha256"
DEFAULT_XSD_DIR = PROJECT_ROOT / "xsd" / "installed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemId(_Strict):
    """A StUF ``Systeem``: organisatie, applicatie, administratie, gebruiker (absent = any)."""

    organisatie: str | None = None
    applicatie: str | None = None
    administratie: str | None = None
    gebruiker: str | None = None

    def matches(self, other: SystemId) -> bool:
        for name in ("organisatie", "applicatie", "administratie"):
            want = getattr(self, name)
            if want is not None and want != (getattr(other, name) or None):
                return False
        return True


class Limits(_Strict):
    #: the whole request body, checked on its Content-Length before it is read: room for one document
    #: of ``max_document_bytes`` as base64 (4/3 of its size, plus line ends) and the rest of the message
    max_body_bytes: int = Field(60 * 1024 * 1024, gt=0)
    #: one document's content (decoded); large content is written to the file store while the request is read
    max_document_bytes: int = Field(40 * 1024 * 1024, gt=0)
    #: the request line and headers together, and how many headers (HTTP 431 beyond)
    max_header_bytes: int = Field(32 * 1024, ge=1024)
    max_headers: int = Field(100, ge=10)
    #: a request's line and headers must arrive within this time (HTTP 408 beyond): no slow-header clients
    header_timeout_seconds: float = Field(10.0, gt=0)
    #: the connection closes when a request body stalls this long (no slow-body clients)
    body_idle_timeout_seconds: float = Field(30.0, gt=0)
    #: connections (and requests in progress) per worker process; more get HTTP 503
    max_connections: int = Field(1000, ge=10)
    #: a message's structure, checked while it is read (StUF055 beyond): attributes per element,
    #: namespace declarations in the message, MIME parts of an MTOM message
    max_attributes_per_element: int = Field(256, ge=16)
    max_namespace_declarations: int = Field(1000, ge=16)
    max_mime_parts: int = Field(100, ge=2)


class Checks(_Strict):
    #: StUF019: tijdstipBericht must grow per zender. Off by default: the StUF Testplatform itself
    #: sends one tijdstipBericht for a whole scenario.
    tijdstip_increasing: bool = False
    #: RGBZ: a zaakidentificatie starts with the gemeentecode (checked on creeerZaak)
    identificatie_prefix: bool = True
    #: validate every answer the broker emits against the official schemas (about 0.1 ms an answer);
    #: an invalid one is logged with its path (never its values) and counted in /metrics. A Bv03, made of
    #: the request's validated stuurgegevens and the broker's identity, is checked once for that
    #: identity (every Bv03 when that fails)
    validate_answers: bool = True
    #: what then happens to an invalid answer: send it all the same (the client may well read it), or
    #: answer StUF058 instead (strict; the test suite runs so)
    invalid_answers: Literal["send", "fault"] = "send"


class Soap(_Strict):
    #: "mirror": answer with MTOM when the request came as MTOM; "inline": always base64 in the body;
    #: "mtom": MTOM whenever the answer holds StUF:BinaireInhoud.
    binary_answers: str = "mirror"

    @field_validator("binary_answers")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in ("mirror", "inline", "mtom"):
            raise ValueError("must be one of mirror, inline, mtom")
        return v


class Tls(_Strict):
    """The broker's own TLS listener (ZDS 1.2 §3: two-way TLS)."""

    certificate: Path
    key: Path
    #: the CA (bundle) that signs the clients' certificates; without it no client certificate is asked
    client_ca: Path | None = None
    #: required: a connection without a valid client certificate is refused during the handshake;
    #: optional: callers may prove themselves otherwise (HTTP basic, UsernameToken; applications.yaml)
    client_certificates: Literal["required", "optional"] = "required"


class Server(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    #: threads per worker process that handle SOAP requests (parsing, validation, database, a ``sync``
    #: target's call), so the event loop never waits on them; more requests than this wait their turn
    handler_threads: int = Field(16, ge=1, le=256)
    #: of those, how many may wait on one ``sync`` remote target at once (default: a quarter of them): a
    #: target that hangs then holds only these, and a further request for it is refused at once
    #: (StUF058, plek server: the sender may resend) instead of taking the threads other clients need
    sync_calls_per_target: int | None = Field(None, ge=1)

    def sync_slots(self) -> int:
        return self.sync_calls_per_target or max(1, self.handler_threads // 4)
    #: URL clients use to reach the broker (for soap:address in served WSDLs); default: from the request
    public_url: str | None = None
    #: serve HTTPS with client certificates instead of plain HTTP
    tls: Tls | None = None
    #: Host header values (name or name:port) that may shape the address in served WSDLs when public_url
    #: is not set; loopback names always may; any other Host gets the configured host and port
    allowed_hosts: list[str] = []


class BrokerSettings(_Strict):
    gemeentecode: str = Field("0000", pattern=r"^[0-9]{4}$")
    #: How the broker names itself as zender in answers when the request named no ontvanger.
    identity: SystemId = SystemId(organisatie="BROKER", applicatie="STUFBROKER")
    #: ontvangers the broker answers for (StUF010 otherwise); empty = any
    ontvangers: list[SystemId] = []
    #: known zenders (StUF013 otherwise); empty = any
    zenders: list[SystemId] = []
    #: SQLite (``sqlite:///broker.db``: a relative path is inside the data directory) or PostgreSQL
    #: (``postgresql+psycopg://USER:PASSWORD@HOST:5432/DB``; ``postgres://`` and ``postgresql://`` mean the
    #: same); ``STUF_BROKER_DATABASE_URL`` overrides it
    database_url: str = "sqlite:///broker.db"
    #: the database (SQLite), document content, the dashboard's secret and the metrics of ``serve``; a
    #: relative path is relative to the configuration directory; ``STUF_BROKER_DATA_DIR`` overrides it
    data_dir: str = "../var"
    limits: Limits = Limits()
    checks: Checks = Checks()
    soap: Soap = Soap()
    server: Server = Server()
    #: auto: JSON unless stderr is a terminal (broker.logging); json; console (aligned, for people)
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("database_url")
    @classmethod
    def _database(cls, v: str) -> str:
        return database_url(v)


def database_url(url: str) -> str:
    """``url`` as SQLAlchemy needs it, or ValueError saying what is accepted: ``postgres://`` (as Heroku and
    many tools write it) and ``postgresql://`` use the psycopg driver the broker installs."""
    for alias in ("postgres://", "postgresql://", "postgres+psycopg://"):
        if url.startswith(alias):
            return "postgresql+psycopg://" + url[len(alias):]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise ValueError(f"{url.split(':', 1)[0]!r} is not a database the broker can use; write "
                     "sqlite:///FILE (a relative FILE is inside the data directory) or "
                     "postgresql://USER:PASSWORD@HOST:5432/DATABASE")


@dataclass
class Settings:
    """Everything the running broker needs to know, resolved to absolute paths."""

    config_dir: Path
    broker: BrokerSettings
    xsd_dir: Path
    data_dir: Path
    database_url: str

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def load_settings(config_dir: Path | None = None, *, env: dict[str, str] | None = None) -> Settings:
    """Where everything is, the same for every command:

    - the configuration directory: ``--config DIR``, else ``$STUF_BROKER_CONFIG``, else ``config/`` of
      this checkout (:data:`DEFAULT_CONFIG_DIR`), never the current directory;
    - the data directory: ``$STUF_BROKER_DATA_DIR`` (relative: to the current directory), else
      ``data_dir`` of broker.yaml (relative: to the configuration directory; default ``../var``, so
      ``var/`` beside ``config/``);
    - the database: ``$STUF_BROKER_DATABASE_URL``, else ``database_url``; a relative SQLite path is
      inside the data directory (default ``<data dir>/broker.db``).
    """
    env = dict(os.environ if env is None else env)
    config_dir = find_config_dir(config_dir, env)
    broker, _ = load_model(config_dir / "broker.yaml", BrokerSettings, default={})
    if env.get("STUF_BROKER_DATA_DIR"):
        data_dir = (Path.cwd() / env["STUF_BROKER_DATA_DIR"]).resolve()
    else:
        data_dir = (config_dir / broker.data_dir).resolve()
    url = broker.database_url
    if env.get("STUF_BROKER_DATABASE_URL"):
        try:
            url = database_url(env["STUF_BROKER_DATABASE_URL"])
        except ValueError as exc:
            raise ConfigError([ConfigProblem("STUF_BROKER_DATABASE_URL", None, str(exc))]) from None
    url = _absolute_sqlite(url, data_dir)
    xsd_dir = Path(env.get("STUF_XSD_DIR", DEFAULT_XSD_DIR)).resolve()
    return Settings(config_dir, broker, xsd_dir, data_dir, url)


def find_config_dir(config_dir: Path | None = None, env: dict[str, str] | None = None) -> Path:
    """``--config DIR``, else ``$STUF_BROKER_CONFIG``, else this checkout's ``config/``; absolute."""
    env = dict(os.environ if env is None else env)
    return (config_dir or Path(env.get("STUF_BROKER_CONFIG") or DEFAULT_CONFIG_DIR)).resolve()


def _absolute_sqlite(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute so every process of the broker opens the same file."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix):]).resolve())
    return url
