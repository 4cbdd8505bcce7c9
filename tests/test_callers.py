"""Caller authentication and authorisation (broker.intake.callers) on the applications registry.

Certificates are made here with ``cryptography``; the TLS listener itself is tested over real
loopback TLS in tests/test_tls.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from lxml import etree

from broker.errors import ConfigError, StufError
from broker.intake.callers import WSSE, WSU, Authenticator, Caller, Transport, authorise
from broker.mappings.applications import Applications, parse_applications
from broker.mappings.store import ConfigStore
from broker.store import migrate
from broker.store.db import Database
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem
from tests.support.certs import issue

CA = issue("Test CA")
FORMS = issue("forms.gemeente.test", CA)
KCC = issue("kcc.gemeente.test", CA)
STRANGER = issue("stranger.test", CA)


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMS_PASSWORD", "forms-secret")
    monkeypatch.setenv("KCC_WSS", "kcc-wss-secret")


def registry(text: str | None = None) -> Applications:
    text = text or f"""
trusted_proxies: [10.1.2.0/24]
applications:
  - organisatie: "1900"
    applicatie: FORMS
    authentication:
      certificate: {{fingerprint_sha256: "{FORMS.fingerprint}"}}
      basic: {{username: forms, password_env: FORMS_PASSWORD}}
    operations: [creeerZaak, geefZaakdetails]
    zaaktypen: [SHV]
  - organisatie: "1900"
    applicatie: KCC
    authentication:
      certificate: {{subject: "{KCC.subject}"}}
      usernametoken: {{username: kcc, password_env: KCC_WSS}}
      require: all
    operations: ["*"]
"""
    return Applications(parse_applications(text, "applications.yaml"))


def basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def token(user: str, password: str, *, digest: bool = True, nonce: bytes | None = None,
          created: datetime | None = None) -> list[etree._Element]:
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = (base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()).decode()
             if digest else password)
    kind = "PasswordDigest" if digest else "PasswordText"
    xml = (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
           f"<wsse:Username>{user}</wsse:Username>"
           f'<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#{kind}">'
           f"{value}</wsse:Password><wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
           f"<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security>")
    return [etree.fromstring(xml)]


def refused(auth: Authenticator, transport: Transport, headers: list | None = None) -> StufError:
    with pytest.raises(StufError) as caught:
        auth.authenticate(transport, headers or [])
    assert caught.value.code == "StUF052" and caught.value.http_status == 401
    return caught.value


def test_without_applications_only_loopback_callers_are_served() -> None:
    auth = Authenticator(Applications())
    assert auth.authenticate(Transport(peer="127.0.0.1"), []) == Caller(None)
    assert auth.authenticate(Transport(peer="::1"), []) == Caller(None)
    assert "alleen berichten van deze machine" in refused(auth, Transport(peer="192.0.2.7")).omschrijving


def test_a_client_certificate_from_the_tls_listener_proves_its_application() -> None:
    auth = Authenticator(registry())
    caller = auth.authenticate(Transport(peer="192.0.2.7", certificate=FORMS.der), [])
    assert caller.application is not None and caller.application.applicatie == "FORMS"
    assert caller.proofs == {"certificate"}
    assert "geen bekende applicatie" in refused(auth, Transport(peer="192.0.2.7", certificate=STRANGER.der)).omschrijving


def test_a_certificate_in_a_header_counts_only_from_a_trusted_proxy() -> None:
    auth = Authenticator(registry())
    header = {"x-ssl-client-cert": quote(FORMS.pem.decode())}
    caller = auth.authenticate(Transport(peer="10.1.2.3", headers=header), [])
    assert caller.application is not None and caller.application.applicatie == "FORMS"
    assert "vertrouwde proxy" in refused(auth, Transport(peer="192.0.2.7", headers=header)).omschrijving


def test_http_basic() -> None:
    auth = Authenticator(registry())
    caller = auth.authenticate(Transport(peer="192.0.2.7", headers=basic("forms", "forms-secret")), [])
    assert caller.application is not None and caller.application.applicatie == "FORMS"
    refused(auth, Transport(peer="192.0.2.7", headers=basic("forms", "wrong")))
    refused(auth, Transport(peer="192.0.2.7", headers=basic("nobody", "forms-secret")))
    refused(auth, Transport(peer="192.0.2.7", headers={"authorization": "Basic !!!"}))


def test_http_basic_with_an_argon2_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = PasswordHasher().hash("hashed-secret")
    auth = Authenticator(registry(f"""
applications:
  - {{applicatie: PORTAAL, authentication: {{basic: {{username: portaal, password_argon2: "{hashed}"}}}}}}
"""))
    assert auth.authenticate(Transport(peer="192.0.2.7", headers=basic("portaal", "hashed-secret")), []).application
    refused(auth, Transport(peer="192.0.2.7", headers=basic("portaal", "nope")))


def test_usernametoken_digest_and_text_and_replay() -> None:
    auth = Authenticator(registry("""
applications:
  - {applicatie: KCC, authentication: {usernametoken: {username: kcc, password_env: KCC_WSS}}}
"""))
    nonce = os.urandom(16)
    headers = token("kcc", "kcc-wss-secret", nonce=nonce)
    assert auth.authenticate(Transport(peer="192.0.2.7"), headers).proofs == {"usernametoken"}
    assert "al eerder gebruikt" in refused(auth, Transport(peer="192.0.2.7"), headers).omschrijving
    assert auth.authenticate(Transport(peer="192.0.2.7"), token("kcc", "kcc-wss-secret", digest=False)).application
    refused(auth, Transport(peer="192.0.2.7"), token("kcc", "wrong"))
    refused(auth, Transport(peer="192.0.2.7"), token("kcc", "wrong", digest=False))
    old = token("kcc", "kcc-wss-secret", created=datetime.now(UTC) - timedelta(hours=1))
    assert "verlopen" in refused(auth, Transport(peer="192.0.2.7"), old).omschrijving


def test_require_all_needs_every_configured_proof_and_proofs_must_agree() -> None:
    auth = Authenticator(registry())
    only_cert = Transport(peer="192.0.2.7", certificate=KCC.der)
    assert "ook bewijzen met: usernametoken" in refused(auth, only_cert).omschrijving
    caller = auth.authenticate(only_cert, token("kcc", "kcc-wss-secret"))
    assert caller.proofs == {"certificate", "usernametoken"}
    mixed = Transport(peer="192.0.2.7", certificate=KCC.der, headers=basic("forms", "forms-secret"))
    assert "verschillende applicaties" in refused(auth, mixed, token("kcc", "kcc-wss-secret")).omschrijving
    assert "niet geauthenticeerd" in refused(auth, Transport(peer="127.0.0.1")).omschrijving


def sg(organisatie: str, applicatie: str) -> Stuurgegevens:
    return Stuurgegevens(berichtcode="Lk01", zender=Systeem(organisatie, applicatie, None, None))


@pytest.mark.parametrize(("who", "zender", "operation", "zaaktype", "allowed"), [
    ("FORMS", ("1900", "FORMS"), "creeerZaak", "SHV", True),
    ("FORMS", ("1900", "FORMS"), "geefZaakdetails", None, True),
    ("FORMS", ("1900", "FORMS"), "creeerZaak", "WMO", False),          # zaaktype not allowed
    ("FORMS", ("1900", "FORMS"), "updateZaak", "SHV", False),          # operation not allowed
    ("FORMS", ("1900", "KCC"), "creeerZaak", "SHV", False),            # another zender than proven
    ("FORMS", ("0363", "FORMS"), "creeerZaak", "SHV", False),          # another organisatie
    ("KCC", ("1900", "KCC"), "updateZaak", "WMO", True),               # "*"
    ("KCC", ("1900", "FORMS"), "geefZaakdetails", None, False),
])
def test_the_authorisation_matrix(who: str, zender: tuple[str, str], operation: str, zaaktype: str | None,
                                  allowed: bool) -> None:
    app = next(a for a in registry().all if a.applicatie == who)
    caller = Caller(app, frozenset({"certificate"}))
    if allowed:
        authorise(caller, sg(*zender), operation, zaaktype)
    else:
        with pytest.raises(StufError) as caught:
            authorise(caller, sg(*zender), operation, zaaktype)
        assert caught.value.code == "StUF052" and caught.value.plek == "client"


def test_a_loopback_caller_without_registry_may_send_anything() -> None:
    authorise(Caller(None), sg("0000", "ANY"), "updateZaak", "SHV")


@pytest.mark.parametrize(("text", "message"), [
    ("applications:\n  - {applicatie: A, authentication: {}}\n", "at least one of"),
    ("applications:\n  - {applicatie: A, authentication: {basic: {username: a}}}\n", "give password_env"),
    ("applications:\n  - {applicatie: A, authentication: {basic: {username: a, password_env: NOT_SET_X}}}\n",
     "NOT_SET_X is not set"),
    ("applications:\n  - {applicatie: A, operations: [creerZaak], authentication: {certificate: {subject: CN=a}}}\n",
     "unknown operation 'creerZaak'"),
    ("applications:\n  - {applicatie: A, authentication: {certificate: {fingerprint_sha256: abc}}}\n",
     "64 hexadecimal"),
    ("trusted_proxies: [nonsense]\n", "not an address"),
    ("applications:\n  - {applicatie: A, authentication: {certificate: {subject: CN=a}}}\n"
     "  - {applicatie: A, authentication: {certificate: {subject: CN=b}}}\n", "also entry 1"),
    ("applicaties: []\n", "unknown setting"),
])
def test_mistakes_in_applications_yaml_name_their_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_applications(text, "applications.yaml")
    problems = caught.value.problems
    assert any(message in str(p) for p in problems), problems
    assert all(p.line is not None for p in problems), problems


def test_applications_yaml_is_versioned_and_taken_into_use_without_a_restart(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "applications.yaml").write_text(
        "applications:\n  - {applicatie: FORMS, authentication: {basic: {username: forms, password_env: FORMS_PASSWORD}}}\n")
    db = Database(f"sqlite:///{tmp_path}/broker.db")
    migrate.upgrade(db)
    store = ConfigStore(db, config)
    assert [a.applicatie for a in store.applications.all] == ["FORMS"]
    auth = Authenticator(store.applications)
    assert auth.authenticate(Transport(peer="192.0.2.7", headers=basic("forms", "forms-secret")), []).application

    with pytest.raises(ConfigError):  # an invalid version is refused; the one in use stays
        store.save("applications.yaml", "applications:\n  - {applicatie: X, authentication: {}}\n", "web:ada")
    assert [a.applicatie for a in store.applications.all] == ["FORMS"]

    store.save("applications.yaml", "applications:\n  - {applicatie: KCC, authentication: "
               "{basic: {username: kcc, password_env: FORMS_PASSWORD}}}\n", "web:ada", "KCC in plaats van FORMS")
    assert [a.applicatie for a in store.applications.all] == ["KCC"]
    refused(auth, Transport(peer="192.0.2.7", headers=basic("forms", "forms-secret")))
    assert [v.version for v in store.history("applications.yaml")] == [2, 1]
    db.dispose()


def test_the_documented_example_is_a_valid_applications_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMS_WSS_PASSWORD", "x")
    monkeypatch.setenv("FORMS_HTTP_PASSWORD", "y")
    example = Path(__file__).resolve().parents[1] / "docs" / "applications.example.yaml"
    model = parse_applications(example.read_text(), str(example))
    assert {a.applicatie for a in model.applications} == {"SCHULDHULP", "FORMS", "KCC"}


def test_a_usernametoken_replayed_to_another_process_is_refused(tmp_path: Path) -> None:
    """Two broker processes share the database: a nonce one of them accepted is refused by the other."""
    db = Database(f"sqlite:///{tmp_path}/broker.db")
    migrate.upgrade(db)
    apps = registry("""
applications:
  - {applicatie: KCC, authentication: {usernametoken: {username: kcc, password_env: KCC_WSS}}}
""")
    one, other = Authenticator(apps, db), Authenticator(apps, db)
    headers = token("kcc", "kcc-wss-secret")
    assert one.authenticate(Transport(peer="192.0.2.7"), headers).application is not None
    assert "al eerder gebruikt" in refused(other, Transport(peer="192.0.2.7"), headers).omschrijving
    assert other.authenticate(Transport(peer="192.0.2.7"), token("kcc", "kcc-wss-secret")).application
    db.dispose()
