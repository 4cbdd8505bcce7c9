"""What every adapter that calls its target over HTTP shares: one mapping of transport errors and one
classification of HTTP statuses.

- No answer (timeout, refused or reset connection, a broken protocol): :func:`transport_error`, an
  :class:`~broker.errors.AdapterError` worth a retry with a readable message (``POST /zds/...: no
  answer within 10s``). Adapters call the target inside :func:`calling`, which does the mapping.
- An answer with an error status: :meth:`HttpErrors.retryable_status`. 5xx, 408 (request timeout)
  and 429 (too many requests) are worth a retry; every other 4xx is permanent. An adapter extends
  this by declaration, ``retry_statuses = frozenset({401, 403})``, never with its own table.
- Every request to a target carries the message's correlation id (:func:`correlation_headers`,
  ``X-Correlation-ID``), so the target's logs can be matched with the broker's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar

import httpx

from broker.errors import AdapterError
from broker.logging import CORRELATION_HEADER, current_correlation_id

#: 4xx statuses worth another attempt for every HTTP target (5xx always are)
RETRY_STATUSES: frozenset[int] = frozenset({408, 429})

_WHAT = (  # (exception class, what happened): the first match wins
    (httpx.ConnectTimeout, "no connection within {timeout}"),
    (httpx.TimeoutException, "no answer within {timeout}"),
    (httpx.ConnectError, "connection refused or host unreachable"),
    (httpx.RemoteProtocolError, "the connection broke off"),
    (httpx.ReadError, "the connection broke off"),
    (httpx.WriteError, "the connection broke off"),
    (httpx.ProxyError, "the proxy refused"),
    (httpx.UnsupportedProtocol, "not an http(s) URL"),
    (httpx.TooManyRedirects, "too many redirects"),
)
_PERMANENT = (httpx.UnsupportedProtocol, httpx.TooManyRedirects)  # another attempt ends the same way


def correlation_headers() -> dict[str, str]:
    """``X-Correlation-ID`` of the message being handled or delivered (none outside one)."""
    cid = current_correlation_id()
    return {CORRELATION_HEADER: cid} if cid else {}


def retryable_status(status: int, extra: frozenset[int] | set[int] | tuple[int, ...] = ()) -> bool:
    """Whether an HTTP error status is worth another attempt (``extra``: an adapter's additions)."""
    return status >= 500 or status in RETRY_STATUSES or status in extra


def describe(exc: httpx.RequestError, timeout: float | None = None) -> str:
    """A transport failure in words, without the exception's own text (it may repeat a URL's query)."""
    limit = f"{timeout:g}s" if timeout is not None else "the timeout"
    for kind, what in _WHAT:
        if isinstance(exc, kind):
            return f"{what.format(timeout=limit)} ({type(exc).__name__})"
    return type(exc).__name__


def transport_error(exc: httpx.RequestError, where: str, timeout: float | None = None) -> AdapterError:
    """The target did not answer: worth a retry (not when the URL or the redirects are wrong)."""
    return AdapterError(f"{where}: {describe(exc, timeout)}", retryable=not isinstance(exc, _PERMANENT))


@contextmanager
def calling(where: str, timeout: float | None = None,
            error: Callable[[str, httpx.RequestError], AdapterError] | None = None) -> Iterator[None]:
    """Run an HTTP call; a transport failure becomes :func:`transport_error` (or ``error(message, exc)``,
    for adapters with their own AdapterError subclass). HTTP statuses are left to the caller."""
    try:
        yield
    except httpx.RequestError as exc:
        mapped = transport_error(exc, where, timeout)
        raise (error(str(mapped), exc) if error is not None else mapped) from exc


class HttpErrors:
    """Mixed into an adapter (or its client): the shared status classification plus its declaration."""

    #: statuses beyond 5xx, 408 and 429 that this adapter's target answers when a retry may help
    retry_statuses: ClassVar[frozenset[int]] = frozenset()

    @classmethod
    def retryable_status(cls, status: int) -> bool:
        return retryable_status(status, cls.retry_statuses)

    @classmethod
    def status_error(cls, where: str, response: httpx.Response, *, answer_chars: int = 5000) -> AdapterError:
        """An error status as an AdapterError, retryable as classified, the answer kept for operators."""
        status = response.status_code
        return AdapterError(f"{where}: HTTP {status}", retryable=cls.retryable_status(status),
                            target_answer=response.text[:answer_chars])
