"""The first slice works end to end over HTTP."""

from tests.support import messages as m


def test_genereer_creeer_en_geef_zaakdetails(soap):
    du02 = soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie())
    assert du02.berichtcode == "Du02"
    ident = du02.text("zaak/identificatie")
    assert ident.startswith("1234")
    bv03 = soap.call("OntvangAsynchroon", m.creeer_zaak(ident), soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01")
    assert bv03.berichtcode == "Bv03", bv03.content
    la01 = soap.call("BeantwoordVraag", m.geef_zaakdetails(ident))
    assert la01.berichtcode == "La01"
    assert la01.text("antwoord/object/identificatie") == ident
