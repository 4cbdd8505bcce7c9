"""``stuf-broker send`` sends every fixture to a live broker: the ZDS 1.2 and ZDS 1.1 life of a zaak with
its status, documents (inline base64 and MTOM, read back byte for byte), checkout and besluiten; the
StUF-BG person questions (npsLa01 printed as the persons found, which never reach a log line) and the
afnemerindicatie kennisgeving; a StUF fault exits 1 with its code, plek and omschrijving; a usage or
connection problem exits 2."""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from structlog.testing import capture_logs

from broker.cli.send import send
from tests.support.edge_live import Edge, running

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST = yaml.safe_load((FIXTURES / "manifest.yaml").read_text(encoding="utf-8"))
BG_FILES = {name for name, e in MANIFEST["files"].items() if e["shape"].startswith("StUF-BG")}


@pytest.fixture(scope="module")
def edge(tmp_path_factory, schemas):
    with running(tmp_path_factory.mktemp("send"), schemas) as edge:
        yield edge


class Sender:
    def __init__(self, edge: Edge, tmp: Path) -> None:
        self.url = edge.url
        self.tmp = tmp
        self.sent: set[str] = set()

    def __call__(self, *args: str, zds11: bool = False, expect: int = 0) -> str:
        argv = [*args, "--url", self.url] + (["--zds11"] if zds11 else [])
        result = CliRunner().invoke(send, argv)
        assert result.exit_code == expect, f"send {' '.join(argv)}: exit {result.exit_code}\n{result.output}"
        # (the broker runs in this process: its log lines may be in the output too)
        sent = re.search(r"^\w+ \((\S+)\) -> http", result.output, re.MULTILINE)
        if sent:
            self.sent.add(sent.group(1))
        return result.output


def _value(output: str, label: str) -> str:
    found = re.search(rf"^\s+{re.escape(label)}: (.+)$", output, re.MULTILINE)
    assert found, f"no {label} in\n{output}"
    return found.group(1)


def _life_of_a_zaak(s: Sender, zds11: bool, tmp: Path) -> None:
    """Every operation in its order, each answered as its fixture's manifest entry says."""
    assert _value(s("genereerZaakIdentificatie", zds11=zds11), "zaak/identificatie").startswith("1234")
    out = s("creeerZaak", zds11=zds11)
    assert "Bv03" in out
    zaak = _value(out, "zaak")
    assert "Bv03" in s("updateZaak", "--zaak", zaak, zds11=zds11)
    assert "Bv03" in s("actualiseerZaakstatus", "--zaak", zaak, zds11=zds11)
    status = s("geefZaakstatus", "--zaak", zaak, zds11=zds11)
    assert _value(status, "heeft/gerelateerde/code") == "SHV-2"
    details = s("geefZaakdetails", "--zaak", zaak, zds11=zds11)
    assert _value(details, "identificatie") == zaak
    assert _value(details, "toelichting") == "Toelichting gewijzigd met stuf-broker send"

    s("genereerDocumentIdentificatie", zds11=zds11)
    pdf = tmp / f"brief-{zds11}.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    out = s("voegZaakdocumentToe", "--zaak", zaak, "--document", str(pdf), "--mtom", zds11=zds11)
    document = _value(out, "document")
    copy = tmp / f"kopie-{zds11}.pdf"
    read = s("geefZaakdocumentLezen", "--document-id", document, "--out", str(copy), zds11=zds11)
    assert f"inhoud: {pdf.name}, {pdf.stat().st_size} bytes (application/pdf)" in read
    assert copy.read_bytes() == pdf.read_bytes()
    inline = s("voegZaakdocumentToe", "--zaak", zaak, zds11=zds11)  # the fixture's own content, inline
    assert "Bv03" in inline
    leeg = _value(s("maakZaakdocument", "--zaak", zaak, zds11=zds11), "document")
    lijst = s("geefLijstZaakdocumenten", "--zaak", zaak, zds11=zds11)
    assert document in lijst and leeg in lijst

    checkout = _value(s("geefZaakdocumentbewerken", "--document-id", document, zds11=zds11), "parameters/checkedOutId")
    assert "Bv02" in s("updateZaakdocument", "--document-id", document, "--checkout", checkout, zds11=zds11)
    assert "versie 2" in s("geefZaakdocumentLezen", "--document-id", document, zds11=zds11)
    checkout = _value(s("geefZaakdocumentbewerken", "--document-id", document, zds11=zds11), "parameters/checkedOutId")
    assert "Bv02" in s("cancelCheckout", "--document-id", document, "--checkout", checkout, zds11=zds11)

    if not zds11:  # ZDS 1.2 only
        assert "Bv02" in s("ontkoppelZaakdocument", "--document-id", leeg, "--zaak", zaak)
        s("genereerBesluitIdentificatie")
        besluit = _value(s("voegBesluitToe", "--zaak", zaak), "besluit")
        lijst = s("geefLijstBesluiten", "--zaak", zaak)
        assert besluit in lijst
    else:
        besluit = _value(s("voegBesluitToe", "--zaak", zaak), "besluit")
        # the zaken of a person: the zaak of an initiator no other zaak here has
        ander = _value(s("creeerZaak", "--bsn", "123456782", zds11=True), "zaak")
        zaken = s("geefZaakdetails", "--bsn", "123456782", zds11=True)
        assert "(zds11/geefZaakdetails.zakLv01.initiator.xml)" in zaken and ": 1 object" in zaken, zaken
        assert _value(zaken, "identificatie") == ander
    assert "Bv03" in s("updateBesluit", "--besluit", besluit, zds11=zds11)
    assert "36 maanden" in s("geefBesluitdetails", "--besluit", besluit, zds11=zds11)
    if zds11:
        assert besluit in s("geefLijstBesluiten", "--zaak", zaak, zds11=True)
        los = _value(s("voegBesluitToe", zds11=True), "besluit")  # a bslLk01: a besluit without a zaak
        assert "Toekenning" in s("geefBesluitdetails", "--besluit", los, zds11=True)


def test_send_takes_every_fixture_through_the_life_of_a_zaak(edge: Edge, tmp_path: Path) -> None:
    s = Sender(edge, tmp_path)
    _life_of_a_zaak(s, zds11=False, tmp=tmp_path)
    _life_of_a_zaak(s, zds11=True, tmp=tmp_path)
    assert s.sent == set(MANIFEST["files"]) - BG_FILES, "every ZDS fixture was sent (the StUF-BG ones below)"


def test_send_asks_every_stuf_bg_fixture_and_prints_the_persons_found(edge: Edge, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with capture_logs() as events:  # every structlog event, with all its fields, before any masking
        _person_questions(Sender(edge, tmp_path), edge)
    logged = [repr(e) for e in events] + [str(r.__dict__) for r in caplog.records]
    # structlog hands the broker's events to the standard library too: whichever of the two saw them (a
    # logger cached before capture_logs began, earlier in the suite, reaches only the second)
    handled = max(sum(e.get("event") == "message handled" for e in events),
                  sum("message handled" in r.getMessage() for r in caplog.records))
    assert handled >= 7, "the broker's log events were captured"
    for secret in ("000009969", "999994268", "999970586", "999993653", "Wiel", "Hereweg", "9725AD", "19350430"):
        assert not [line for line in logged if secret in line], f"{secret} reached a log line"


def _person_questions(s: Sender, edge: Edge) -> None:
    out = s("npsLv01")  # the fixture as shipped: a test person by BSN, with relations
    assert "La01 (npsLa01)" in out and ": 1 person" in out
    assert "person 1: BSN 000009969" in out
    assert _value(out, "naam") == "Henk van der Wiel (voorletters H., geslacht M)"
    assert _value(out, "geboren") == "1935-04-30 in Utrecht"
    assert _value(out, "verblijfsadres") == "Hereweg 22A, 9725AD"
    assert _value(out, "partner") == "Maria van der Wiel, BSN 999994268, geboren 1939-11-29; verbintenis H sinds 1960-04-12"
    assert _value(out, "kind") == "Truus van der Wiel, BSN 999993677, geboren 1960-09-12"
    assert _value(out, r"ouder (Ouder1)") == "Adriana Hendrika van Altena, BSN onbekend, geboren 1915-01-12"

    out = s("npsLv01", "--geslachtsnaam", "Wiel", "--geboortedatum", "19350430")
    assert "(bg/npsLv01.geslachtsnaam-geboortedatum.xml)" in out and "person 1: BSN 000009969" in out
    out = s("npsLv01", "--postcode", "9725 ad", "--huisnummer", "22")
    assert "(bg/npsLv01.postcode-huisnummer.xml)" in out and ": 2 persons" in out
    assert "BSN 000009969" in out and "BSN 999994268" in out
    out = s("npsLv01", "--bsn", "999970586")  # another test person: a birth date of which only the year is known
    assert _value(out, "geboren").startswith("1970-??-??")
    assert "no persons (nothing found)" in s("npsLv01", "--bsn", "999999291")
    out = s("npsLv01", "--bsn", "123456789", expect=1)
    assert re.search(r"^Fo02 StUF055 \(plek client\): .*elfproef", out, re.MULTILINE), out

    assert "Bv03" in s("npsLk01", "--bsn", "999993653")  # places the sender's afnemerindicatie
    from broker.services import afnemerindicaties

    with edge.broker.broker.db.read() as session:
        placed = [(i.afnemer.applicatie, i.bron) for i in afnemerindicaties.listed(session, bsn="999993653")]
    assert placed == [("STUFSEND", "kennisgeving")]
    assert s.sent == BG_FILES, "every StUF-BG fixture was sent"


def test_person_options_that_do_not_fit_exit_2(edge: Edge, tmp_path: Path) -> None:
    s = Sender(edge, tmp_path)
    assert "one question at a time" in s("npsLv01", "--bsn", "000009969", "--postcode", "9725AD", expect=2)
    assert "has no --postcode to replace" in s("npsLk01", "--postcode", "9725AD", expect=2)
    assert "has no --bsn to replace" in s("genereerZaakIdentificatie", "--bsn", "000009969", expect=2)


_ids = itertools.count(1)


def _prepare(s: Sender, needs: list[str]) -> list[str]:
    """Fresh objects for what a fixture needs, made with the ZDS 1.2 fixtures: the options to pass."""
    args: list[str] = []
    n = next(_ids)
    zaak, document, besluit = f"1234PF{n:06d}", f"1234PFD{n:06d}", f"1234PFB{n:06d}"
    if {"zaak", "document", "besluit"} & set(needs):
        assert "Bv03" in s("creeerZaak", "--zaak", zaak)
        if "zaak" in needs:
            args += ["--zaak", zaak]
    if "document" in needs:
        assert "Bv03" in s("voegZaakdocumentToe", "--zaak", zaak, "--document-id", document)
        args += ["--document-id", document]
    if "besluit" in needs:
        assert "Bv03" in s("voegBesluitToe", "--zaak", zaak, "--besluit", besluit)
        args += ["--besluit", besluit]
    if "checkout" in needs:
        out = s("geefZaakdocumentbewerken", "--document-id", document)
        args += ["--checkout", _value(out, "parameters/checkedOutId")]
    return args


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_each_fixture_gets_the_answer_its_manifest_entry_names(edge: Edge, tmp_path: Path, name: str) -> None:
    entry = MANIFEST["files"][name]
    s = Sender(edge, tmp_path)
    out = s(str(FIXTURES / name), *_prepare(s, entry["needs"]))
    first = re.search(r"^(\w+) \((\w+)\)", out, re.MULTILINE)
    assert first is not None, out
    code, element = first.groups()
    assert entry["answer"] in (code, element, element.removesuffix("Bericht")), out


def test_a_file_outside_the_fixtures_is_sent_with_fresh_stuurgegevens(edge: Edge, tmp_path: Path) -> None:
    mine = tmp_path / "mine.xml"
    mine.write_bytes((FIXTURES / "zds12" / "genereerZaakIdentificatie.xml").read_bytes())
    s = Sender(edge, tmp_path)
    first = _value(s(str(mine)), "zaak/identificatie")
    second = _value(s(str(mine)), "zaak/identificatie")
    assert first != second, "a fresh referentienummer each time: no duplicate answer"


def test_a_stuf_fault_exits_1_with_code_plek_and_omschrijving(edge: Edge, tmp_path: Path) -> None:
    s = Sender(edge, tmp_path)
    zaak = _value(s("creeerZaak"), "zaak")
    out = s("creeerZaak", "--zaak", zaak, expect=1)
    assert re.search(r"^Fo03 StUF\d{3} \(plek (client|server)\): .*bestaat al", out, re.MULTILINE), out
    out = s("updateZaak", "--zaak", "1234ONBEKEND", expect=1)
    assert re.search(r"^Fo03 StUF064 \(plek \w+\): Zaak 1234ONBEKEND niet gevonden", out, re.MULTILINE), out
    assert "nothing found" in s("geefZaakdetails", "--zaak", "1234ONBEKEND")  # an empty La01 is an answer


def test_usage_and_connection_problems_exit_2(edge: Edge, tmp_path: Path) -> None:
    s = Sender(edge, tmp_path)
    assert "needs --zaak" in s("geefZaakdetails", expect=2)
    assert "needs --document-id and --checkout" in s("updateZaakdocument", expect=2)
    assert "operations: " in s("geefAlles", expect=2)
    assert "no document content" in s("creeerZaak", "--document", str(FIXTURES / "manifest.yaml"), expect=2)
    result = CliRunner().invoke(send, ["genereerZaakIdentificatie", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "could not reach the broker" in result.output
