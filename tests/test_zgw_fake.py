"""Tests of the ZGW fake itself (broker/devtools/zgw_fake): it must serve a whole
case lifecycle, speak the specs' error shapes and catch spec violations."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from broker.devtools.zgw_fake import SPEC_FIXES, ZGWFake, load_specs, make_token
from broker.devtools.zgw_fake.specs import APIS

CLIENT_ID, SECRET = "stuf-broker-test", "geheim"  # a short secret, as Open Zaak setups often have
RSIN = "002220647"


# -- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="module")
def specs():
    """Parse the specs once for this module (later fakes reuse the cache)."""
    return load_specs()


@pytest.fixture
def fake(specs) -> Iterator[ZGWFake]:
    with ZGWFake(clients=[(CLIENT_ID, SECRET)]) as server:
        yield server


@pytest.fixture
def client(fake: ZGWFake) -> Iterator[httpx.Client]:
    with httpx.Client(headers=fake.auth_headers(), timeout=10) as http:
        yield http


@pytest.fixture
def zaaktype(fake: ZGWFake):
    return fake.add_zaaktype(
        "B1026",
        "Melding openbare ruimte",
        statustypen=[(1, "Ontvangen"), (2, "In behandeling"), (3, "Afgehandeld")],
        roltypen=[("initiator", "Melder"), ("behandelaar", "Behandelaar")],
        informatieobjecttypen=["Melding", "Foto"],
        resultaattypen=["Gegrond", "Ongegrond"],
        besluittypen=["Besluit op melding"],
        eigenschappen=["kenmerk"],
    )


def new_zaak(fake: ZGWFake, client: httpx.Client, zaaktype, **fields) -> dict:
    body = {
        "bronorganisatie": RSIN,
        "zaaktype": zaaktype.url,
        "verantwoordelijkeOrganisatie": RSIN,
        "startdatum": "2024-05-01",
        "omschrijving": "Losliggende stoeptegel",
        **fields,
    }
    response = client.post(f"{fake.url('zaken')}/zaken", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def new_document(fake: ZGWFake, client: httpx.Client, zaaktype, **fields) -> httpx.Response:
    body = {
        "bronorganisatie": RSIN,
        "creatiedatum": "2024-05-01",
        "titel": "Melding",
        "auteur": "stuf-broker",
        "taal": "nld",
        "informatieobjecttype": zaaktype.informatieobjecttypen["Melding"],
        "bestandsnaam": "melding.txt",
        **fields,
    }
    return client.post(f"{fake.url('documenten')}/enkelvoudiginformatieobjecten", json=body)


def upload_in_parts(client: httpx.Client, document: dict, content: bytes) -> None:
    offset = 0
    for part in sorted(document["bestandsdelen"], key=lambda p: p["volgnummer"]):
        chunk = content[offset:offset + part["omvang"]]
        offset += part["omvang"]
        response = client.put(
            part["url"],
            data={"lock": document["lock"]},
            files={"inhoud": (f"deel{part['volgnummer']}.bin", chunk, "application/octet-stream")},
        )
        assert response.status_code == 200, response.text
        assert response.json()["voltooid"] is True
    assert offset == len(content)


# -- specs --------------------------------------------------------------------

def test_specs_are_loaded_once_and_cached(specs):
    assert set(specs.specs) == set(APIS)
    assert specs["zaken"].info_version == "1.5.1"
    assert specs["catalogi"].info_version == "1.3.1"
    assert specs["documenten"].info_version == "1.4.2"
    assert specs["besluiten"].info_version == "1.0.2"
    again = load_specs()
    assert all(again[api] is specs[api] for api in APIS)  # served from the module-level cache
    assert again.load_seconds < 0.1
    assert specs["zaken"].document["servers"] == [{"url": "/zaken/api/v1"}]
    assert SPEC_FIXES  # every in-memory correction is listed


def test_documenten_150_is_selectable_and_shares_the_other_specs(specs):
    other = load_specs(versions={"documenten": "1.5.0"})
    assert other["documenten"].info_version == "1.5.0"
    assert other["zaken"] is specs["zaken"]


def test_loading_time_is_measured_per_spec(specs):
    parse_times = {api: spec.load_seconds for api, spec in specs.specs.items()}
    assert all(0 < seconds < 60 for seconds in parse_times.values())
    assert load_specs().load_seconds < 0.1  # a cache hit costs next to nothing


# -- a whole case -------------------------------------------------------------

def test_full_case_lifecycle(fake: ZGWFake, client: httpx.Client, zaaktype):
    zaken, besluiten = fake.url("zaken"), fake.url("besluiten")

    # the catalogue, as the broker would look it up
    found = client.get(f"{fake.url('catalogi')}/zaaktypen", params={"identificatie": "B1026"}).json()
    assert found["count"] == 1 and found["results"][0]["url"] == zaaktype.url
    statustypen = client.get(f"{fake.url('catalogi')}/statustypen", params={"zaaktype": zaaktype.url}).json()
    assert [s["isEindstatus"] for s in statustypen["results"]] == [False, False, True]

    # zaak
    response = client.post(f"{zaken}/zaken", json={
        "bronorganisatie": RSIN, "zaaktype": zaaktype.url, "verantwoordelijkeOrganisatie": RSIN,
        "startdatum": "2024-05-01", "omschrijving": "Losliggende stoeptegel",
    })
    assert response.status_code == 201, response.text
    assert response.headers["Content-Crs"] == "EPSG:4326"
    assert response.headers["Location"] == response.json()["url"]
    zaak = response.json()
    assert zaak["identificatie"].startswith("ZAAK-") and zaak["einddatum"] is None

    # rol + first status
    rol = client.post(f"{zaken}/rollen", json={
        "zaak": zaak["url"], "betrokkeneType": "natuurlijk_persoon", "roltype": zaaktype.roltypen["Melder"],
        "roltoelichting": "Melder", "betrokkeneIdentificatie": {"inpBsn": "999993653", "geslachtsnaam": "Jansen"},
    })
    assert rol.status_code == 201, rol.text
    assert rol.json()["omschrijvingGeneriek"] == "initiator"
    status = client.post(f"{zaken}/statussen", json={
        "zaak": zaak["url"], "statustype": zaaktype.statustypen[1], "datumStatusGezet": "2024-05-01T09:00:00Z",
    })
    assert status.status_code == 201, status.text

    # document with inline content
    small = new_document(fake, client, zaaktype, inhoud=base64.b64encode(b"Er ligt een tegel los.").decode())
    assert small.status_code == 201, small.text
    assert small.json()["locked"] is False and small.json()["bestandsomvang"] == 22
    assert client.get(small.json()["inhoud"]).content == b"Er ligt een tegel los."

    # document in parts: inhoud null + bestandsomvang -> bestandsdelen, upload with lock, unlock
    fake.chunk_size = 10
    content = bytes(range(256)) * 3 + b"tail"
    big = new_document(fake, client, zaaktype, titel="Foto", inhoud=None, bestandsomvang=len(content),
                       informatieobjecttype=zaaktype.informatieobjecttypen["Foto"], bestandsnaam="foto.jpg")
    assert big.status_code == 201, big.text
    big_doc = big.json()
    assert big_doc["locked"] is True and big_doc["lock"]
    assert len(big_doc["bestandsdelen"]) == -(-len(content) // 10)
    assert all(part["lock"] == big_doc["lock"] for part in big_doc["bestandsdelen"])
    premature = client.post(f"{big_doc['url']}/unlock", json={"lock": big_doc["lock"]})
    assert premature.status_code == 400 and premature.json()["code"] == "incomplete-upload"
    upload_in_parts(client, big_doc, content)
    assert client.post(f"{big_doc['url']}/unlock", json={"lock": big_doc["lock"]}).status_code == 204
    unlocked = client.get(big_doc["url"]).json()
    assert unlocked["locked"] is False and unlocked["bestandsdelen"] == []
    download = client.get(f"{big_doc['url']}/download")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == content
    assert fake.document_content(big_doc["url"]) == content

    # zaakinformatieobjecten
    for document in (small.json(), big_doc):
        zio = client.post(f"{zaken}/zaakinformatieobjecten",
                          json={"zaak": zaak["url"], "informatieobject": document["url"]})
        assert zio.status_code == 201, zio.text
    listed = client.get(f"{zaken}/zaakinformatieobjecten", params={"zaak": zaak["url"]}).json()
    assert {z["informatieobject"] for z in listed} == {small.json()["url"], big_doc["url"]}

    # resultaat, eindstatus -> einddatum
    resultaat = client.post(f"{zaken}/resultaten", json={
        "zaak": zaak["url"], "resultaattype": zaaktype.resultaattypen["Gegrond"]})
    assert resultaat.status_code == 201, resultaat.text
    eind = client.post(f"{zaken}/statussen", json={
        "zaak": zaak["url"], "statustype": zaaktype.eindstatustype, "datumStatusGezet": "2024-05-20T15:30:00Z"})
    assert eind.status_code == 201, eind.text
    closed = client.get(zaak["url"]).json()
    assert closed["einddatum"] == "2024-05-20"
    assert closed["status"] == eind.json()["url"]
    assert closed["resultaat"] == resultaat.json()["url"]
    assert closed["rollen"] == [rol.json()["url"]]
    assert len(closed["zaakinformatieobjecten"]) == 2
    first = client.get(status.json()["url"]).json()
    assert first["indicatieLaatstGezetteStatus"] is False

    # besluit + besluitinformatieobject
    besluit = client.post(f"{besluiten}/besluiten", json={
        "verantwoordelijkeOrganisatie": RSIN, "besluittype": zaaktype.besluittypen["Besluit op melding"],
        "zaak": zaak["url"], "datum": "2024-05-20", "ingangsdatum": "2024-05-21",
    })
    assert besluit.status_code == 201, besluit.text
    assert besluit.json()["identificatie"].startswith("BESLUIT-")
    bio = client.post(f"{besluiten}/besluitinformatieobjecten",
                      json={"besluit": besluit.json()["url"], "informatieobject": small.json()["url"]})
    assert bio.status_code == 201, bio.text
    by_zaak = client.get(f"{besluiten}/besluiten", params={"zaak": zaak["url"]}).json()
    assert by_zaak["count"] == 1
    assert client.get(f"{zaak['url']}/besluiten").json()[0]["besluit"] == besluit.json()["url"]

    # the log, and not a single spec violation in either direction
    assert len(fake.calls("POST", "/zaken/api/v1/zaken")) == 1
    assert [r.body for r in fake.calls("POST", "/statussen")][1]["statustype"] == zaaktype.eindstatustype
    assert fake.violations == []
    assert fake.auth_failures == [] and fake.unsupported == []


def test_zaak_update_list_filters_and_derived_objects(fake, client, zaaktype):
    zaak = new_zaak(fake, client, zaaktype, identificatie="ZAAK-EIGEN-1")
    patched = client.patch(zaak["url"], json={"omschrijving": "Gewijzigd", "zaakgeometrie": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["omschrijving"] == "Gewijzigd"
    full = {k: v for k, v in patched.json().items() if k not in (
        "url", "uuid", "betalingsindicatieWeergave", "deelzaken", "eigenschappen", "rollen", "status",
        "zaakinformatieobjecten", "zaakobjecten", "einddatum", "resultaat")}
    put = client.put(zaak["url"], json={**full, "toelichting": "via PUT"})
    assert put.status_code == 200, put.text
    assert put.json()["toelichting"] == "via PUT"

    listed = client.get(f"{fake.url('zaken')}/zaken",
                        params={"identificatie": "ZAAK-EIGEN-1", "bronorganisatie": RSIN}).json()
    assert listed["count"] == 1 and listed["results"][0]["url"] == zaak["url"]
    assert client.get(f"{fake.url('zaken')}/zaken", params={"zaaktype": zaaktype.url}).json()["count"] == 1

    zaakobject = client.post(f"{fake.url('zaken')}/zaakobjecten", json={
        "zaak": zaak["url"], "objectType": "overige", "objectTypeOverige": "stoeptegel",
        "objectIdentificatie": {"overigeData": {"nummer": 12}}})
    assert zaakobject.status_code == 201, zaakobject.text
    eigenschap = client.post(f"{zaak['url']}/zaakeigenschappen", json={
        "zaak": zaak["url"], "eigenschap": zaaktype.eigenschappen["kenmerk"], "waarde": "K-12"})
    assert eigenschap.status_code == 201, eigenschap.text
    assert eigenschap.json()["naam"] == "kenmerk"
    rol = client.post(f"{fake.url('zaken')}/rollen", json={
        "zaak": zaak["url"], "betrokkeneType": "medewerker", "roltype": zaaktype.roltypen["Behandelaar"],
        "roltoelichting": "", "betrokkeneIdentificatie": {"identificatie": "mdw-1"}})
    assert rol.status_code == 201, rol.text
    by_medewerker = client.get(f"{fake.url('zaken')}/rollen", params={
        "zaak": zaak["url"], "betrokkeneIdentificatie__medewerker__identificatie": "mdw-1"}).json()
    assert by_medewerker["count"] == 1
    assert client.delete(rol.json()["url"]).status_code == 204
    assert client.get(zaak["url"]).json()["rollen"] == []
    assert fake.objects("zaken")[0]["zaakobjecten"] == [zaakobject.json()["url"]]
    assert fake.violations == []


# -- documenten: locking rules ------------------------------------------------------

def test_document_lock_rules_and_versions(fake, client, zaaktype):
    doc = new_document(fake, client, zaaktype, inhoud=base64.b64encode(b"versie 1").decode()).json()
    url = doc["url"]
    not_locked = client.patch(url, json={"titel": "Nieuw", "lock": "nope"})
    assert not_locked.status_code == 400
    assert not_locked.json()["invalidParams"][0]["code"] == "unlocked"

    lock = client.post(f"{url}/lock")
    assert lock.status_code == 200
    lock_id = lock.json()["lock"]
    assert client.post(f"{url}/lock").json()["code"] == "existing-lock"
    wrong = client.patch(url, json={"titel": "Nieuw", "lock": "verkeerd"})
    assert wrong.status_code == 400 and wrong.json()["invalidParams"][0]["code"] == "incorrect-lock-id"
    without = client.patch(url, json={"titel": "Nieuw"})
    assert without.status_code == 400

    updated = client.patch(url, json={"titel": "Nieuw", "lock": lock_id,
                                      "inhoud": base64.b64encode(b"versie 2").decode()})
    assert updated.status_code == 200, updated.text
    assert updated.json()["versie"] == 2 and updated.json()["locked"] is True
    assert client.post(f"{url}/unlock", json={"lock": "verkeerd"}).json()["code"] == "incorrect-lock-id"
    assert client.post(f"{url}/unlock", json={"lock": lock_id}).status_code == 204

    assert client.get(f"{url}/download").content == b"versie 2"
    assert client.get(f"{url}/download", params={"versie": 1}).content == b"versie 1"
    assert client.get(url, params={"versie": 1}).json()["titel"] == "Melding"
    by_id = client.get(f"{fake.url('documenten')}/enkelvoudiginformatieobjecten",
                       params={"identificatie": doc["identificatie"]}).json()
    assert by_id["count"] == 1 and by_id["results"][0]["versie"] == 2
    # a new large version while locked: new bestandsdelen
    lock_id = client.post(f"{url}/lock").json()["lock"]
    fake.chunk_size = 4
    bigger = client.patch(url, json={"lock": lock_id, "inhoud": None, "bestandsomvang": 9}).json()
    assert [p["omvang"] for p in bigger["bestandsdelen"]] == [4, 4, 1]
    upload_in_parts(client, {**bigger, "lock": lock_id}, b"versie 3!")
    assert client.post(f"{url}/unlock", json={"lock": lock_id}).status_code == 204
    assert client.get(f"{url}/download").content == b"versie 3!"
    assert fake.violations == []


def test_documenten_150(specs):
    with ZGWFake(clients=[(CLIENT_ID, SECRET)], documenten_version="1.5.0") as fake, \
            httpx.Client(headers=fake.auth_headers("documenten")) as http:
        iot = fake.add_informatieobjecttype("Brief")
        created = http.post(f"{fake.url('documenten')}/enkelvoudiginformatieobjecten", json={
            "bronorganisatie": RSIN, "creatiedatum": "2024-05-01", "titel": "Brief", "auteur": "x",
            "taal": "nld", "informatieobjecttype": iot, "inhoud": base64.b64encode(b"x").decode()})
        assert created.status_code == 201, created.text
        assert created.json()["inhoudIsVervallen"] is False
        assert fake.violations == []


# -- paging ---------------------------------------------------------------------------

def test_paging_across_pages(fake, client, zaaktype):
    fake.page_size = 2
    made = [new_zaak(fake, client, zaaktype)["url"] for _ in range(5)]
    seen, url, params, pages = [], f"{fake.url('zaken')}/zaken", {"zaaktype": zaaktype.url}, 0
    while url:
        page = client.get(url, params=params).json()
        assert page["count"] == 5 and len(page["results"]) <= 2
        assert (page["previous"] is None) == (pages == 0)
        seen += [z["url"] for z in page["results"]]
        url, params, pages = page["next"], None, pages + 1
    assert pages == 3 and seen == made
    assert client.get(f"{fake.url('zaken')}/zaken", params={"page": 4}).status_code == 400
    statustypen = client.get(f"{fake.url('catalogi')}/statustypen", params={"zaaktype": zaaktype.url}).json()
    assert statustypen["count"] == 3 and statustypen["next"]
    assert fake.violations == []


# -- errors the spec describes ---------------------------------------------------------

def test_auth_refusal(fake, zaaktype):
    url = f"{fake.url('catalogi')}/zaaktypen"
    crs = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}
    no_token = httpx.get(url)
    assert no_token.status_code == 403
    assert no_token.headers["content-type"] == "application/problem+json"
    assert {"code", "title", "status", "detail", "instance"} <= set(no_token.json())
    bad_secret = httpx.get(url, headers={"Authorization": f"Bearer {make_token(CLIENT_ID, 'fout')}"})
    assert bad_secret.status_code == 403
    unknown = httpx.get(url, headers={"Authorization": f"Bearer {make_token('onbekend', SECRET)}"})
    assert unknown.status_code == 403
    old = make_token(CLIENT_ID, SECRET, iat=time.time() - 7200)
    assert httpx.get(f"{fake.url('zaken')}/zaken", headers={"Authorization": f"Bearer {old}", **crs}).status_code == 403
    assert httpx.get(url, headers={"Authorization": f"Bearer {fake.token()}"}).status_code == 200
    assert len(fake.auth_failures) == 4
    assert fake.violations == []


def test_missing_accept_crs_is_412(fake, client, zaaktype):
    zaak = new_zaak(fake, client, zaaktype)
    token = {"Authorization": f"Bearer {fake.token()}"}
    missing = httpx.get(zaak["url"], headers={**token, "Content-Crs": "EPSG:4326"})
    assert missing.status_code == 412
    assert missing.json()["status"] == 412 and "Accept-Crs" in missing.json()["detail"]
    wrong = httpx.get(zaak["url"], headers={**token, "Accept-Crs": "EPSG:28992", "Content-Crs": "EPSG:4326"})
    assert wrong.status_code == 406
    # resources without geometry do not need the headers
    assert httpx.get(f"{fake.url('zaken')}/statussen", headers=token).status_code == 200
    assert len(fake.violations) == 2 and "Accept-Crs" in fake.violations[0]


def test_invalid_request_is_400_and_a_violation(fake, client, zaaktype):
    response = client.post(f"{fake.url('zaken')}/zaken", json={
        "bronorganisatie": "1234567890", "zaaktype": "zaaktypen/relatief",
        "startdatum": "2024-13-01", "url": "http://mag.niet"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["status"] == 400
    params = {(p["name"], p["code"]) for p in body["invalidParams"]}
    assert ("verantwoordelijkeOrganisatie", "required") in params
    assert ("bronorganisatie", "maxLength") in params
    assert ("startdatum", "format") in params
    assert ("zaaktype", "format") in params
    assert ("url", "readOnly") in params
    assert len(fake.violations) == len(body["invalidParams"])
    assert all(v.startswith("POST /zaken/api/v1/zaken [zaak_create] request:") for v in fake.violations)
    fake.violations.clear()
    assert fake.calls("POST")[0].body["startdatum"] == "2024-13-01"

    # the polymorphic part of a rol is checked against its variant too
    zaak = new_zaak(fake, client, zaaktype)
    rol = client.post(f"{fake.url('zaken')}/rollen", json={
        "zaak": zaak["url"], "betrokkeneType": "natuurlijk_persoon", "roltype": zaaktype.roltypen["Melder"],
        "roltoelichting": "", "betrokkeneIdentificatie": {"inpBsn": "1234567890"}})
    assert rol.status_code == 400
    assert rol.json()["invalidParams"] == [{"name": "betrokkeneIdentificatie.inpBsn", "code": "maxLength",
                                            "reason": "'1234567890' is too long"}]
    assert fake.violations == [
        "POST /zaken/api/v1/rollen [rol_create] request: betrokkeneIdentificatie.inpBsn: '1234567890' is too long"]


def test_server_rules_give_spec_errors_without_violations(fake, client, zaaktype):
    new_zaak(fake, client, zaaktype, identificatie="ZAAK-1")
    duplicate = client.post(f"{fake.url('zaken')}/zaken", json={
        "identificatie": "ZAAK-1", "bronorganisatie": RSIN, "zaaktype": zaaktype.url,
        "verantwoordelijkeOrganisatie": RSIN, "startdatum": "2024-05-01"})
    assert duplicate.status_code == 400
    assert duplicate.json()["invalidParams"] == [{
        "name": "identificatie", "code": "identificatie-niet-uniek", "reason": duplicate.json()["invalidParams"][0]["reason"]}]
    missing = client.get(f"{fake.url('zaken')}/zaken/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    zaak = new_zaak(fake, client, zaaktype)
    closing = client.post(f"{fake.url('zaken')}/statussen", json={
        "zaak": zaak["url"], "statustype": zaaktype.eindstatustype, "datumStatusGezet": "2024-05-02T10:00:00Z"})
    assert closing.status_code == 400
    assert closing.json()["invalidParams"][0]["code"] == "resultaat-does-not-exist"
    foreign = client.post(f"{fake.url('zaken')}/rollen", json={
        "zaak": zaak["url"], "betrokkeneType": "medewerker", "roltype": f"{fake.url('catalogi')}/roltypen/x",
        "roltoelichting": "", "betrokkeneIdentificatie": {"identificatie": "m"}})
    assert foreign.status_code == 400 and foreign.json()["invalidParams"][0]["code"] == "bad-url"
    bad_rsin = client.post(f"{fake.url('zaken')}/zaken", json={
        "bronorganisatie": "123456789", "zaaktype": zaaktype.url, "verantwoordelijkeOrganisatie": RSIN,
        "startdatum": "2024-05-01"})
    assert bad_rsin.status_code == 400
    assert bad_rsin.json()["invalidParams"][0] == {
        "name": "bronorganisatie", "code": "invalid", "reason": "Onjuist RSIN nummer"}
    assert fake.violations == []


def test_unknown_operation_is_a_violation(fake, client):
    assert client.get(f"{fake.url('zaken')}/bestaatniet").status_code == 404
    assert client.post(f"{fake.url('catalogi')}/catalogussen/00000000-0000-4000-8000-000000000000").status_code == 405
    assert len(fake.violations) == 2


def test_response_validation_catches_a_broken_fake(fake, client, zaaktype):
    zaak = new_zaak(fake, client, zaaktype)
    fake.store.get("zaken", zaak["uuid"])["startdatum"] = 20240501  # corrupt the stored zaak
    assert client.get(zaak["url"]).status_code == 200
    assert fake.violations and "response 200: startdatum" in fake.violations[0]


def test_seeds_must_be_valid_catalogi_data(fake):
    with pytest.raises(ValueError, match="maxLength|too long"):
        fake.add_zaaktype("X1", resultaattypen=["Een omschrijving die te lang is voor de API"])


# -- failure injection ---------------------------------------------------------------

def test_fail_next(fake, client, zaaktype):
    fake.fail_next(2, status=503, path_contains="/zaken/api/v1/zaken")
    fake.fail_next(1, status=500, path_contains="/statustypen")
    url = f"{fake.url('zaken')}/zaken"
    assert client.get(url).status_code == 503
    assert client.get(f"{fake.url('catalogi')}/zaaktypen").status_code == 200  # does not match
    failed = client.get(url)
    assert failed.status_code == 503 and failed.json()["status"] == 503
    assert client.get(url).status_code == 200
    server_error = client.get(f"{fake.url('catalogi')}/statustypen")
    assert server_error.status_code == 500 and server_error.json()["code"] == "error"
    assert fake.failures.pending == 0
    assert fake.violations == []


def test_auth_can_be_switched_off(fake, zaaktype):
    fake.check_auth = False
    assert httpx.get(f"{fake.url('catalogi')}/zaaktypen").status_code == 200
    assert httpx.get(f"{fake.url('catalogi')}/zaaktypen", params={"page": "x"}).status_code == 400
    assert len(fake.violations) == 1 and "page" in fake.violations[0]


def test_down_and_up(fake, client):
    url = f"{fake.url('catalogi')}/catalogussen"
    fake.down()
    assert client.get(url).status_code == 503
    fake.up()
    assert client.get(url).status_code == 200
    fake.down("refuse")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, headers=fake.auth_headers())
    fake.up()
    assert client.get(url).status_code == 200
    assert fake.violations == []
