"""The page at ``/``: what this broker serves and where (dashboard, WSDLs, health), so a first visit
does not end in a bare "Not Found"."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from broker.bg.operations import BG_PORTS
from broker.zds.operations import PORTS

_PAGE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>stuf-broker</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f2f2f2;padding:0 .2em}}</style></head>
<body>
<h1>stuf-broker</h1>
<p>A StUF integration broker: Zaak- en Documentservices 1.2 (StUF-ZKN 03.10) over SOAP.</p>
<h2>Dashboard</h2>
<ul><li><a href="{base}/dashboard/">Dashboard</a> (sign in; an administrator is added with
<code>stuf-broker users add NAME --role administrator</code>)</li></ul>
<h2>ZDS 1.2 endpoints</h2>
<ul>
{ports}
</ul>
<h2>Health</h2>
<ul>
<li><a href="{base}/healthz">/healthz</a> (liveness)</li>
<li><a href="{base}/readyz">/readyz</a> (readiness: database and schemas)</li>
<li><a href="{base}/metrics">/metrics</a> (Prometheus)</li>
</ul>
</body>
</html>
"""


def _bg_item(base: str, port: str) -> str:
    url = f"{base}/{port}"
    return f'<li><code>{escape(url)}</code> (StUF-BG 03.10): <a href="{escape(url)}?wsdl">WSDL</a></li>'


def _port_item(base: str, port: str) -> str:
    url = f"{base}/zds/{port}"
    return (f'<li><code>{escape(url)}</code>: <a href="{escape(url)}?wsdl">WSDL</a>, '
            f'<a href="{escape(url)}?wsdl=resolved">WSDL resolved</a> (for zeep and .NET)</li>')


async def landing(request: Request) -> HTMLResponse:
    base = request.scope.get("root_path", "").rstrip("/")
    ports = "\n".join([*(_port_item(base, port) for port in PORTS), *(_bg_item(base, port) for port in BG_PORTS)])
    return HTMLResponse(_PAGE.format(base=escape(base), ports=ports))
