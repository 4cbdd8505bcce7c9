"""The plain spyne service the intake benchmark compares the broker with (issue 9).

What a Python team would otherwise write in an afternoon: spyne 2.14 on gunicorn (sync workers),
Soap11 in and out. Per request it parses the envelope (spyne's own lxml parser: no network, no
entity resolution), validates the message element against the same official ZDS 0120 schema the
broker serves, stores the message with one SQLite insert (one commit, WAL) and answers a fixed Bv03.

It runs in its own virtualenv (spyne imports only on Python 3.11; ``bench/intake.py`` builds it)
and imports nothing of the broker: the schema is compiled here with the same trick as
broker/stuf/schemas.py (every ``xs:import`` of a namespace points at one synthetic hub schema
that includes every file imported for that namespace, since libxml2 honours only the first).

    STUF_BENCH_XSD_DIR=xsd/installed STUF_BENCH_DB=/tmp/spyne.db \\
        bench/.venv-spyne/bin/gunicorn -w 2 --chdir bench spyne_baseline:application
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

from lxml import etree
from spyne import AnyXml, Application, ComplexModel, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

XS = "http://www.w3.org/2001/XMLSchema"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
STUF = "http://www.egem.nl/StUF/StUF0301"
IMPORTS = {f"{{{XS}}}import", f"{{{XS}}}include", f"{{{XS}}}redefine"}
HUB = "/__bench_hub__/"


def _xsd(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)).getroot()


def compile_schema(top: Path, root_dir: Path) -> etree.XMLSchema:
    """Compile one top-level schema of the installed set, each namespace loaded once and completely."""
    imports: dict[str, list[Path]] = {}
    seen: set[Path] = set()
    stack = [top.resolve()]
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        for el in _xsd(path):
            loc = el.get("schemaLocation") if el.tag in IMPORTS else None
            if not loc:
                continue
            target = (path.parent / loc).resolve()
            if el.tag == f"{{{XS}}}import" and target not in imports.setdefault(el.get("namespace") or "", []):
                imports[el.get("namespace") or ""].append(target)
            stack.append(target)
    hubs = {HUB + hashlib.sha1(n.encode()).hexdigest()[:16] + ".xsd": (n, files) for n, files in imports.items()}
    hub_for = {n: url for url, (n, _) in hubs.items()}

    def rewritten(path: Path) -> bytes:
        root = _xsd(path)
        for el in root:
            loc = el.get("schemaLocation") if el.tag in IMPORTS else None
            if loc and el.tag == f"{{{XS}}}import":
                el.set("schemaLocation", hub_for[el.get("namespace") or ""])
            elif loc:
                el.set("schemaLocation", str((path.parent / loc).resolve()))
        return etree.tostring(root)

    class Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            if url in hubs:
                namespace, files = hubs[url]
                includes = "".join(f'<xs:include schemaLocation="{f}"/>' for f in files)
                return self.resolve_string(f'<xs:schema xmlns:xs="{XS}" targetNamespace="{namespace}" '
                                           f'elementFormDefault="qualified">{includes}</xs:schema>', context,
                                           base_url=url)
            path = Path(url).resolve()
            if path.suffix == ".xsd" and path.is_file() and path.is_relative_to(root_dir.resolve()):
                return self.resolve_string(rewritten(path), context, base_url=str(path))
            raise ValueError(f"refusing to load schema from {url}")

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Resolver())
    doc = etree.fromstring(rewritten(top.resolve()), parser, base_url=str(top.resolve()))
    return etree.XMLSchema(etree.ElementTree(doc))


XSD_DIR = Path(os.environ.get("STUF_BENCH_XSD_DIR", Path(__file__).resolve().parents[1] / "xsd" / "installed"))
SCHEMA = compile_schema(XSD_DIR / "zds0120" / "zds0120_msg_totaal.xsd", XSD_DIR)
DB_PATH = os.environ.get("STUF_BENCH_DB", "/tmp/spyne-baseline.db")
SYNCHRONOUS = os.environ.get("STUF_BENCH_SYNCHRONOUS", "FULL")
_db: sqlite3.Connection | None = None


def db() -> sqlite3.Connection:
    """One connection per worker process, opened after gunicorn forked it."""
    global _db
    if _db is None:
        _db = sqlite3.connect(DB_PATH, timeout=30, isolation_level=None)
        _db.execute("PRAGMA journal_mode=WAL")
        _db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        _db.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, referentienummer TEXT, "
                    "received_at REAL, body BLOB)")
    return _db


class ValidatingSoap11(Soap11):
    """Soap11 that keeps the request's bytes (to store them) and validates the message element
    against the official schema where spyne would validate against its own generated one."""

    def create_in_document(self, ctx, charset=None):
        ctx.in_string = [b"".join(ctx.in_string)]
        super().create_in_document(ctx, charset)

    def validate_body(self, ctx, message):
        if not SCHEMA.validate(ctx.in_body_doc):
            error = SCHEMA.error_log.last_error
            raise Fault("Client.SchemaValidationError", f"regel {error.line}: {error.message}")


class Systeem(ComplexModel):
    __namespace__ = STUF
    _type_info = [("organisatie", Unicode), ("applicatie", Unicode)]


class Stuurgegevens(ComplexModel):
    __namespace__ = STUF
    _type_info = [("berichtcode", Unicode), ("zender", Systeem), ("ontvanger", Systeem),
                  ("referentienummer", Unicode), ("tijdstipBericht", Unicode), ("crossRefnummer", Unicode)]


class Bv03Bericht(ComplexModel):
    __namespace__ = STUF
    _type_info = [("stuurgegevens", Stuurgegevens)]


ZENDER, ONTVANGER = Systeem(organisatie="ORG", applicatie="TTA"), Systeem(organisatie="KING", applicatie="STP")


class OntvangAsynchroon(ServiceBase):
    @rpc(AnyXml, _body_style="bare", _in_message_name="creeerZaak_ZakLk01", _returns=Bv03Bericht,
         _out_message_name=f"{{{STUF}}}Bv03Bericht")
    def creeerZaak(ctx, body):  # spyne's calling convention
        ref = ctx.in_body_doc.findtext(f"{{*}}stuurgegevens/{{{STUF}}}referentienummer")
        db().execute("INSERT INTO messages (referentienummer, received_at, body) VALUES (?, ?, ?)",
                     (ref, time.time(), ctx.in_string[0]))
        return Bv03Bericht(stuurgegevens=Stuurgegevens(
            berichtcode="Bv03", zender=ZENDER, ontvanger=ONTVANGER, referentienummer="SPYNE",
            tijdstipBericht="20260101000000000", crossRefnummer=ref))


app = Application([OntvangAsynchroon], tns=ZDS, name="OntvangAsynchroon",
                  in_protocol=ValidatingSoap11(), out_protocol=Soap11())
application = WsgiApplication(app, max_content_length=64 * 1024 * 1024)  # the broker's limit is 50 MB
