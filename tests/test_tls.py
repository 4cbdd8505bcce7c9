"""Two-way TLS on the broker's own listener (ZDS 1.2 §3), over real TLS on loopback.

Certificates are made in the test (tests/support/certs.py). The listener asks for a client certificate
signed by the configured CA; the certificate's application (applications.yaml) must be the zender.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.config import Tls
from tests.support import live
from tests.support import messages as m
from tests.support.certs import Issued, issue

ASYNC = "OntvangAsynchroon"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued | Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = issue("Test CA")
    other_ca = issue("Other CA")
    found: dict[str, Issued | Path] = {"folder": folder, "ca": ca, "server": issue("localhost", ca, server=True),
                                       "stp": issue("stp.gemeente.test", ca), "kcc": issue("kcc.gemeente.test", ca),
                                       "rogue": issue("stp.gemeente.test", other_ca)}
    (folder / "ca.pem").write_bytes(ca.pem)
    for name in ("server", "stp", "kcc", "rogue"):
        issued = found[name]
        assert isinstance(issued, Issued)
        issued.write(folder, name)
    return found


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, pki: dict) -> Iterator[live.LiveBroker]:
    tmp = tmp_path_factory.mktemp("tls")
    config = live.config_with(tmp, **{"applications.yaml": f"""
applications:
  - organisatie: KING
    applicatie: STP
    authentication: {{certificate: {{fingerprint_sha256: "{pki['stp'].fingerprint}"}}}}
  - organisatie: KING
    applicatie: KCC
    authentication: {{certificate: {{subject: "{pki['kcc'].subject}"}}}}
    operations: [geefZaakdetails]
"""})
    folder = pki["folder"]
    settings = live.make_settings(tmp, config_dir=config)
    settings.broker.server.tls = Tls(certificate=folder / "server.pem", key=folder / "server.key",
                                     client_ca=folder / "ca.pem")
    lb = live.start(settings)
    yield lb
    lb.stop()


def client(pki: dict, who: str | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki["folder"] / "ca.pem"))
    if who is not None:
        context.load_cert_chain(str(pki["folder"] / f"{who}.pem"), str(pki["folder"] / f"{who}.key"))
    return httpx.Client(verify=context, timeout=10)


def post(c: httpx.Client, lb: live.LiveBroker, xml: str, action: str) -> httpx.Response:
    envelope = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                f"{xml}</soapenv:Body></soapenv:Envelope>")
    return c.post(lb.endpoint(ASYNC), content=envelope.encode(),
                  headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ZDS}/{action}"'})


def test_the_certificate_of_the_zender_is_accepted(broker: live.LiveBroker, pki: dict) -> None:
    with client(pki, "stp") as c:
        r = post(c, broker, m.creeer_zaak("1234TLS0001"), "creeerZaak_ZakLk01")
    assert r.status_code == 200 and b"Bv03" in r.content, r.content[:600]


def test_a_certificate_of_another_application_than_the_zender_is_refused(broker: live.LiveBroker, pki: dict) -> None:
    with client(pki, "kcc") as c:
        r = post(c, broker, m.creeer_zaak("1234TLS0002"), "creeerZaak_ZakLk01")
    assert r.status_code == 500 and b"StUF052" in r.content, r.content[:600]


def test_without_a_certificate_or_with_one_of_another_ca_there_is_no_connection(
        broker: live.LiveBroker, pki: dict) -> None:
    for who in (None, "rogue"):
        with client(pki, who) as c, pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            post(c, broker, m.creeer_zaak("1234TLS0003"), "creeerZaak_ZakLk01")
