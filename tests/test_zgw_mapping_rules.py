"""What a mapping file says, applied: value translations both ways, defaults and overrides, tweaks per
zender over those per zaaktype over the general ones, and a target that uses part of the files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.devtools.zgw_fake import ZGWFake
from tests.support import document_messages as dm
from tests.support import messages as m
from tests.support import zgw_broker as zb
from tests.support import zgw_messages as zm

REPO = zb.REPO
SHV = (REPO / "config" / "mappings" / "shv.yaml").read_text()
ZENDERS = """
zenders:
  STP:
    vertrouwelijkheidaanduiding: geheim
    overrides:
      zaak: {opdrachtgevendeOrganisatie: "002220647"}
    defaults:
      zaak: {toelichting: Binnengekomen via het STP}
"""


@pytest.fixture
def fake() -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(zb.CLIENT_ID, zb.SECRET)]) as server:
        zb.seed_shv(server)
        yield server
        assert server.violations == [], server.violations


def _config(tmp: Path, fake: ZGWFake, files: dict[str, str], **options: object) -> Path:
    return zb.write_zgw_config(tmp, zb.translate_routes(fake, **options), mappings=files)


def test_values_are_translated_on_the_way_in_and_back(tmp_path: Path, fake: ZGWFake, schemas) -> None:
    with zb.start(tmp_path, _config(tmp_path, fake, {"shv.yaml": SHV}), schemas) as zgw:
        zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234WAARDE01"), soap_action=zm.ACTION["creeer"])
        message = dm.voeg_zaakdocument_toe("DOC-NL", "1234WAARDE01").replace("<ZKN:taal>nld</ZKN:taal>",
                                                                            "<ZKN:taal>NL</ZKN:taal>")
        assert zgw.soap.call("OntvangAsynchroon", message, soap_action=dm.ACTION["voegZaakdocumentToe"]).berichtcode == "Bv03"
        lezen = zgw.soap.call("BeantwoordVraag", dm.geef_zaakdocument_lezen("DOC-NL"),
                              soap_action=dm.ACTION["geefZaakdocumentLezen"])
    (doc,) = fake.objects("enkelvoudiginformatieobjecten")
    assert doc["taal"] == "nld"
    assert lezen.text("antwoord/object/taal") == "NL"
    assert lezen.text("antwoord/object/vertrouwelijkAanduiding") == "VERTROUWELIJK"


def test_a_zender_overrides_the_zaaktype_which_overrides_the_general_settings(tmp_path: Path, fake: ZGWFake,
                                                                               schemas) -> None:
    with zb.start(tmp_path, _config(tmp_path, fake, {"shv.yaml": SHV, "stp.yaml": ZENDERS}), schemas) as zgw:
        zgw.soap.call("OntvangAsynchroon", m.creeer_zaak("1234ZENDER01"), soap_action=zm.ACTION["creeer"])
        zgw.soap.call("OntvangAsynchroon", m.creeer_zaak("1234ZENDER02", zender=("KING", "ANDERS")),
                      soap_action=zm.ACTION["creeer"])
    zaken = {z["identificatie"]: z for z in fake.objects("zaken")}
    stp, anders = zaken["1234ZENDER01"], zaken["1234ZENDER02"]
    assert stp["vertrouwelijkheidaanduiding"] == "geheim"  # the zender's, over the zaaktype's
    assert anders["vertrouwelijkheidaanduiding"] == "vertrouwelijk"  # the zaaktype's, over the general one
    assert stp["opdrachtgevendeOrganisatie"] == "002220647" and anders["opdrachtgevendeOrganisatie"] == ""
    assert stp["toelichting"] == "Binnengekomen via het STP" and anders["toelichting"] == ""


def test_a_target_may_use_part_of_the_mapping_files(tmp_path: Path, fake: ZGWFake, schemas) -> None:
    omv_only = _config(tmp_path, fake, {"shv.yaml": SHV, "omv.yaml": (REPO / "config/mappings/omv.yaml").read_text()},
                       mappings=["omv.yaml"])
    with zb.start(tmp_path, omv_only, schemas) as zgw:
        answer = zgw.soap.call("OntvangAsynchroon", zm.creeer_zaak("1234DEEL0001"), soap_action=zm.ACTION["creeer"])
    assert answer.foutcode == "StUF058" and "Geen RSIN bekend" in (answer.text("body/omschrijving") or "")
    assert fake.objects("zaken") == []
