"""``stuf-broker dev zgw-fake``: the loopback ZGW APIs as a tool. The README's routes.yaml example routes a
live broker to a running ``dev zgw-fake`` process; the quickstart's ``send`` commands (and a besluit) go
through the ZGW APIs with no request or answer off the official specs. A seed file sets the catalogue;
a bad one is refused with what is wrong."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from broker.cli.dev import dev
from broker.cli.send import send
from broker.devtools.zgw_fake import ZGWFake, seedfile
from tests.support import live
from tests.support.zgw_broker import write_zgw_config

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_routes(port: int) -> dict:
    block = README.split("<!-- zgw-fake:begin -->", 1)[1].split("<!-- zgw-fake:end -->", 1)[0]
    text = re.search(r"```yaml\n(.*?)```", block, re.DOTALL).group(1)
    assert "127.0.0.1:8090" in text
    return yaml.safe_load(text.replace("127.0.0.1:8090", f"127.0.0.1:{port}"))


def _send(url: str, *args: str) -> str:
    result = CliRunner().invoke(send, [*args, "--url", url])
    assert result.exit_code == 0, f"send {' '.join(args)}: exit {result.exit_code}\n{result.output}"
    return result.output


def _value(output: str, label: str) -> str:
    found = re.search(rf"^\s+{re.escape(label)}: (.+)$", output, re.MULTILINE)
    assert found, f"no {label} in\n{output}"
    return found.group(1)


@pytest.mark.slow
def test_the_readme_example_routes_the_quickstart_through_a_running_zgw_fake(tmp_path: Path) -> None:
    port = live.free_port()
    tool = subprocess.Popen([sys.executable, "-m", "broker", "dev", "zgw-fake", "--port", str(port)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = tool.stdout.readline()
        assert f"ZGW APIs on http://127.0.0.1:{port}, zaaktypen SHV, OMV" in first, first + tool.stderr.read()
        config = write_zgw_config(tmp_path, readme_routes(port))
        lb = live.start(live.make_settings(tmp_path, config_dir=config))
        try:
            zaak = _value(_send(lb.url, "creeerZaak"), "zaak")
            _send(lb.url, "actualiseerZaakstatus", "--zaak", zaak)
            pdf = tmp_path / "brief.pdf"
            pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
            document = _value(_send(lb.url, "voegZaakdocumentToe", "--zaak", zaak, "--document", str(pdf), "--mtom"),
                              "document")
            copy = tmp_path / "kopie.pdf"
            _send(lb.url, "geefZaakdocumentLezen", "--document-id", document, "--out", str(copy))
            assert copy.read_bytes() == pdf.read_bytes()
            details = _send(lb.url, "geefZaakdetails", "--zaak", zaak)
            assert "heeft/gerelateerde/code: SHV-2" in details and document in details
            besluit = _value(_send(lb.url, "voegBesluitToe", "--zaak", zaak), "besluit")
            assert besluit in _send(lb.url, "geefBesluitdetails", "--besluit", besluit)
        finally:
            lb.stop()
    finally:
        tool.send_signal(signal.SIGTERM)
        _, err = tool.communicate(timeout=30)
    assert tool.returncode == 0, err
    summary = re.search(r"stopped; (\d+) requests, (\d+) not conform the specs", err)
    assert summary is not None, err
    assert int(summary.group(1)) > 10 and summary.group(2) == "0", err


def test_a_seed_file_sets_the_catalogue(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"zaaktypen": [{
        "identificatie": "MOR", "omschrijving": "Melding openbare ruimte",
        "statustypen": ["Ontvangen", "Afgehandeld"],
        "roltypen": [{"omschrijvingGeneriek": "initiator", "omschrijving": "Melder"}],
        "informatieobjecttypen": ["Foto"], "resultaattypen": ["Opgelost"]}]}))
    with ZGWFake() as fake:
        seeded = seedfile.apply(fake, seedfile.load(seed))
        assert [zt.identificatie for zt in seeded] == ["MOR"]
        statustypen = sorted((st["volgnummer"], st["omschrijving"], st["isEindstatus"])
                             for st in fake.store.all("statustypen"))
        assert statustypen == [(1, "Ontvangen", False), (2, "Afgehandeld", True)]
    default = seedfile.load(seedfile.DEFAULT_SEED)
    catalogus = yaml.safe_load((REPO / "config" / "zaaktypecatalogus.yaml").read_text())
    assert {zt["identificatie"] for zt in default["zaaktypen"]} == {zt["code"] for zt in catalogus["zaaktypen"]}


@pytest.mark.parametrize(("content", "message"), [
    ("zaaktypen: [{identificatie: X, statustype: [A]}]", "zaaktype X: unknown key(s) statustype"),
    ("zaaktypen: [{omschrijving: X}]", "zaaktype 1 has no identificatie"),
    ("zaaktypen: [{identificatie: X, roltypen: initiator}]", "zaaktype X: roltypen must be a list"),
    ("zaaktype: []", "expected a mapping with a list 'zaaktypen'"),
    ("zaaktypen: [\n  - {identificatie: X", "not YAML"),
])
def test_a_bad_seed_file_is_refused_with_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(content)
    result = CliRunner().invoke(dev, ["zgw-fake", "--seed", str(seed), "--port", "0"])
    assert result.exit_code == 1
    assert f"{seed}: " in result.output and message in result.output, result.output
