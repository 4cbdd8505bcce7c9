"""The broker's HTTP protocol: bounded request heads, no slow clients, and client certificates.

uvicorn's httptools protocol, with:

- limits on the request line and headers (``limits.max_header_bytes``, ``limits.max_headers``):
  HTTP 431 and the connection closed as soon as they are passed, before the rest is read;
- a deadline for the request line and headers (``limits.header_timeout_seconds``, HTTP 408), also for
  a connection that sends nothing at all, and an idle limit for a body that stalls
  (``limits.body_idle_timeout_seconds``: the connection closes);
- the writes made in one turn of the event loop sent as one (:class:`_CoalescingTransport`): uvicorn
  writes a response's head and its body apart, which costs a second trip through the network stack;
- on the broker's own TLS listener (ZDS 1.2 §3, two-way TLS), the client certificate that the
  handshake verified against ``server.tls.client_ca``, handed to the application as the ASGI TLS
  extension (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM), so that the intake can tell
  which application it belongs to (applications.yaml).

The limits are class attributes, set once per process from the settings (:func:`configure`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import MutableMapping
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from broker.config import BrokerSettings, Limits, Tls
from broker.web import balance


class _HeadTooLarge(Exception):
    pass


class _CoalescingTransport:
    """A connection's transport whose writes wait for the end of the event loop's turn and then go
    out together (at once when they reach ``FLUSH_BYTES``, and before the connection closes)."""

    FLUSH_BYTES = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= self.FLUSH_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._size = [], 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BrokerHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[Limits] = Limits()

    _client_pem: str | None = None
    _head_bytes = 0
    _head_count = 0
    _head_raw = 0
    _timer: asyncio.TimerHandle | None = None
    _in_body = False
    #: a request has begun and its head is not complete yet
    _in_head = False

    # -- connection ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self._client_pem = ssl.DER_cert_to_PEM_cert(der) if der else None
        self._arm(self.limits.header_timeout_seconds, self._head_too_slow)  # a connection that says nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        balance.closed()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # the parser reports a header only once it is complete: count what arrives while a head is
        # still incomplete, so one endless header line is cut off too
        if self._in_head and not self.transport.is_closing():
            self._head_raw += len(data)
            if self._head_raw > self.limits.max_header_bytes:
                self._refuse(431, "request header fields too large")

    def send_400_response(self, msg: str) -> None:
        if self._head_count < 0:  # the head outgrew its limits: a callback raised, httptools reports 400
            self._refuse(431, "request header fields too large")
            return
        super().send_400_response(msg)

    # -- the request head ------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._head_count = self._head_raw = 0
        self._in_body = False
        self._in_head = True
        self._arm(self.limits.header_timeout_seconds, self._head_too_slow)
        if self._client_pem is not None:
            self.scope["extensions"] = {"tls": {"client_cert_chain": [self._client_pem]}}

    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, 1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        self._arm(self.limits.body_idle_timeout_seconds, self._body_stalled)
        super().on_headers_complete()

    def _count(self, size: int, headers: int) -> None:
        self._head_bytes += size
        self._head_count += headers
        if self._head_bytes > self.limits.max_header_bytes or self._head_count > self.limits.max_headers:
            self._head_count = -1  # marks the 400 httptools is about to report as a 431
            raise _HeadTooLarge()

    # -- the body ----------------------------------------------------------------------------------
    def on_body(self, body: bytes) -> None:
        self._arm(self.limits.body_idle_timeout_seconds, self._body_stalled)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_body = False
        super().on_message_complete()

    # -- timers ------------------------------------------------------------------------------------
    def _arm(self, seconds: float, action: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, action)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_too_slow(self) -> None:
        if not self._in_body and not self.transport.is_closing():
            self.logger.info("closed a connection whose request head did not arrive in time")
            self._refuse(408, "request timeout")

    def _body_stalled(self) -> None:
        if self._in_body and not self.transport.is_closing():
            self.logger.info("closed a connection whose request body stalled")
            self.transport.close()

    def _refuse(self, status: int, reason: str) -> None:
        self._disarm()
        body = f"{reason}\n".encode()
        self.transport.write(f"HTTP/1.1 {status} {reason.title()}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
        self.transport.close()


def configure(settings: BrokerSettings) -> None:
    """The limits of this process's connections (each worker process calls this once)."""
    BrokerHttpProtocol.limits = settings.limits


def client_certificate(scope: MutableMapping[str, Any]) -> bytes | None:
    """The DER of the verified client certificate of a request's connection, if any."""
    chain = ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None


def uvicorn_options(settings: BrokerSettings) -> dict[str, Any]:
    """What uvicorn needs: the broker's protocol, the connection limit, and HTTPS with client
    certificates when ``server.tls`` is set."""
    configure(settings)
    options: dict[str, Any] = {"http": BrokerHttpProtocol, "limit_concurrency": settings.limits.max_connections}
    tls: Tls | None = settings.server.tls
    if tls is not None:
        options.update({"ssl_certfile": str(tls.certificate), "ssl_keyfile": str(tls.key)})
        if tls.client_ca is not None:
            options["ssl_ca_certs"] = str(tls.client_ca)
            options["ssl_cert_reqs"] = (ssl.CERT_REQUIRED if tls.client_certificates == "required"
                                        else ssl.CERT_OPTIONAL)
    return options


__all__ = ["BrokerHttpProtocol", "client_certificate", "configure", "uvicorn_options"]
