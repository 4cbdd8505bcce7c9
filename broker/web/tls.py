"""The broker's own TLS listener: HTTPS with client certificates (ZDS 1.2 §3, two-way TLS).

uvicorn verifies the client certificate against ``server.tls.client_ca`` during the handshake but does
not hand it to the application; :class:`ClientCertificateProtocol` does, as the ASGI TLS extension
(``scope["extensions"]["tls"]["client_cert_chain"]``, PEM), so that the intake can tell which
application the certificate belongs to (applications.yaml).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import MutableMapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from broker.config import Tls


class ClientCertificateProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the connection's verified client certificate in the scope."""

    _client_pem: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self._client_pem = ssl.DER_cert_to_PEM_cert(der) if der else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._client_pem is not None:
            self.scope["extensions"] = {"tls": {"client_cert_chain": [self._client_pem]}}


def client_certificate(scope: MutableMapping[str, Any]) -> bytes | None:
    """The DER of the verified client certificate of a request's connection, if any."""
    chain = ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None


def uvicorn_options(tls: Tls | None) -> dict[str, Any]:
    """What uvicorn needs to serve HTTPS with client certificates, or plain HTTP without ``tls``."""
    if tls is None:
        return {"http": "httptools"}
    options: dict[str, Any] = {"http": ClientCertificateProtocol, "ssl_certfile": str(tls.certificate),
                               "ssl_keyfile": str(tls.key)}
    if tls.client_ca is not None:
        options["ssl_ca_certs"] = str(tls.client_ca)
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED if tls.client_certificates == "required" else ssl.CERT_OPTIONAL
    return options
