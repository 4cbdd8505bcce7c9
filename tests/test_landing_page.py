"""``/`` is a page that links the dashboard, every endpoint's WSDLs and the health endpoints, each of
which answers."""

from __future__ import annotations

import re

import httpx

from broker.zds.operations import PORTS


def test_the_landing_page_links_the_dashboard_the_wsdls_and_the_health_endpoints(live_broker) -> None:
    page = httpx.get(live_broker.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', page.text))
    expected = {"/dashboard/", "/healthz", "/readyz", "/metrics"}
    for port in PORTS:
        expected |= {f"/zds/{port}?wsdl", f"/zds/{port}?wsdl=resolved"}
    assert expected <= links
    with httpx.Client(base_url=live_broker.url, follow_redirects=True) as client:
        for link in sorted(links):
            answer = client.get(link)
            assert answer.status_code == 200, link
            if "wsdl" in link:
                assert b"definitions" in answer.content[:2000], link
