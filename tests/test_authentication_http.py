"""Caller authentication over real HTTP on loopback: HTTP basic and a WS-Security UsernameToken.

Once applications are configured, a loopback caller must prove itself too; an unauthenticated request
gets HTTP 401 with a StUF052 fault and is not processed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from broker.store.tables import Message
from tests.support import live
from tests.support import messages as m

ASYNC = "OntvangAsynchroon"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.LiveBroker]:
    os.environ["STP_BASIC_PASSWORD"] = "stp-basic"
    os.environ["STP_WSS_PASSWORD"] = "stp-wss"
    tmp = tmp_path_factory.mktemp("auth")
    config = live.config_with(tmp, **{"applications.yaml": """
applications:
  - organisatie: KING
    applicatie: STP
    authentication:
      basic: {username: stp, password_env: STP_BASIC_PASSWORD}
      usernametoken: {username: stp-wss, password_env: STP_WSS_PASSWORD}
    operations: [creeerZaak, geefZaakdetails]
"""})
    lb = live.start(live.make_settings(tmp, config_dir=config))
    yield lb
    lb.stop()


def envelope(xml: str, header: str = "") -> bytes:
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body>{xml}</soapenv:Body></soapenv:Envelope>").encode()


def usernametoken(user: str, password: str) -> str:
    nonce, created = os.urandom(16), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soapenv:mustUnderstand="1"><wsse:UsernameToken>'
            f"<wsse:Username>{user}</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
            f'oasis-200401-wss-username-token-profile-1.0#PasswordDigest">{digest}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security>")


def post(lb: live.LiveBroker, body: bytes, auth: tuple[str, str] | None = None,
         action: str = "creeerZaak_ZakLk01") -> httpx.Response:
    return httpx.post(lb.endpoint(ASYNC), content=body, auth=auth, timeout=10,
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ZDS}/{action}"'})


def messages_with(lb: live.LiveBroker, zaak: str) -> int:
    with lb.broker.db.read() as s:
        return s.execute(select(func.count()).select_from(Message)
                         .where(Message.zaak_identificatie == zaak, Message.outcome == "ok")).scalar_one()


def test_http_basic(broker: live.LiveBroker) -> None:
    r = post(broker, envelope(m.creeer_zaak("1234AUTH001")), auth=("stp", "stp-basic"))
    assert r.status_code == 200 and b"Bv03" in r.content, r.content[:500]
    r = post(broker, envelope(m.creeer_zaak("1234AUTH002")), auth=("stp", "wrong"))
    assert r.status_code == 401 and b"StUF052" in r.content
    assert messages_with(broker, "1234AUTH002") == 0


def test_a_usernametoken_in_the_soap_header(broker: live.LiveBroker) -> None:
    r = post(broker, envelope(m.creeer_zaak("1234AUTH003"), usernametoken("stp-wss", "stp-wss")))
    assert r.status_code == 200 and b"Bv03" in r.content, r.content[:500]
    r = post(broker, envelope(m.creeer_zaak("1234AUTH004"), usernametoken("stp-wss", "nope")))
    assert r.status_code == 401 and b"StUF052" in r.content


def test_a_loopback_caller_must_prove_itself_once_applications_are_configured(broker: live.LiveBroker) -> None:
    r = post(broker, envelope(m.creeer_zaak("1234AUTH005")))
    assert r.status_code == 401 and b"StUF052" in r.content and b"niet geauthenticeerd" in r.content
    assert messages_with(broker, "1234AUTH005") == 0


def test_an_operation_the_application_may_not_send_is_refused(broker: live.LiveBroker) -> None:
    xml = m.update_zaak("1234AUTH001", "oud", "nieuw")
    r = post(broker, envelope(xml), auth=("stp", "stp-basic"), action="updateZaak_ZakLk01")
    assert r.status_code == 500 and b"StUF052" in r.content and b"niet geautoriseerd voor updateZaak" in r.content
