"""structlog set-up: one JSON or console line per event, context bound per message.

``auto`` (the default) writes JSON when stderr is not a terminal (a service, a container, a file)
and the aligned console format when it is. The broker's own events are rendered once, in structlog's
chain, and handed to the standard library as a finished line; only other libraries' records go
through structlog's ProcessorFormatter (which copies each record). A line costs about 15 µs instead of
45 µs with the console renderer (docs/performance.md).

Personal data never reaches a log line: the broker binds only stuurgegevens (zender, berichtcode,
referentienummer), operation names and identificaties of zaken and documents. As a second line of
defence, :func:`redact` masks values that look like a BSN (nine digits) in any event field.

A correlation id follows each message: the intake binds it (the caller's ``X-Correlation-ID`` when it
is a valid one, else a new one, :func:`correlation_id_from`), the worker that delivers the message
binds it again, and the HTTP adapters send it on (broker.adapters.http); :func:`current_correlation_id`
is the one bound in this context.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_BSN = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")
_SAFE_KEYS = frozenset({"message_id", "duration_ms", "timestamp", "level", "http_status", "port"})


def redact(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    # one search over all the line's texts first (a line rarely holds nine digits in a row); the
    # separator is no digit, so digits of two values never join into one match
    texts = [v for k, v in event_dict.items() if k not in _SAFE_KEYS and isinstance(v, str) and len(v) >= 9]
    if not texts or not _BSN.search("\n".join(texts)):
        return event_dict
    for k, v in list(event_dict.items()):
        if k in _SAFE_KEYS:
            continue
        if isinstance(v, str) and len(v) >= 9 and _BSN.search(v):
            event_dict[k] = _BSN.sub("*********", v)
    return event_dict


#: the header a caller may send a correlation id in, and the broker sends it on and answers it in
CORRELATION_HEADER = "X-Correlation-ID"
#: a caller's id is taken when it is 1-64 of these characters (a UUID, a trace id, a ticket number), and
#: does not look like a BSN
_CORRELATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,63}")


def correlation_id_from(value: str | None) -> str:
    """The caller's correlation id when it is a valid one, else a new one (a UUID)."""
    if value is not None:
        value = value.strip()
        if _CORRELATION.fullmatch(value) and not _BSN.search(value):
            return value
    while True:  # a UUID whose digits happen to look like a BSN would be masked in the log lines
        made = str(uuid.uuid4())
        if not _BSN.search(made):
            return made


def current_correlation_id() -> str | None:
    """The correlation id bound in this context (the message being handled or delivered), if any."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return value if isinstance(value, str) else None


_RENDERED = "_broker_rendered"


def _to_stdlib(_logger: WrappedLogger, _name: str, line: object) -> tuple[tuple[object], dict[str, object]]:
    """The last processor: the rendered line as the record's message, marked as finished."""
    return (line,), {"extra": {_RENDERED: True}}


class _Formatter(logging.Formatter):
    """Lines rendered by the broker's loggers pass unchanged (an exception is in the line already, as the
    ``exception`` field: a JSON line stays one line); other libraries' records are rendered by structlog's
    ProcessorFormatter with the same processors."""

    def __init__(self, foreign: logging.Formatter) -> None:
        super().__init__()
        self.foreign = foreign

    def format(self, record: logging.LogRecord) -> str:
        if record.__dict__.get(_RENDERED):
            return record.getMessage()
        return self.foreign.format(record)


def resolve_format(fmt: str) -> str:
    """``auto``: JSON unless stderr is a terminal."""
    if fmt == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        return "console" if isatty is not None and isatty() else "json"
    return fmt


def configure(fmt: str = "auto", level: str = "INFO") -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,  # before redact: an exception's text is masked too
        redact,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if resolve_format(fmt) == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    own: list[Processor] = [renderer, _to_stdlib]
    structlog.configure(
        processors=shared + own,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    ))
    # a line holds only what the processors above put in it: the standard library need not look up the
    # caller's frame, thread and process for each record (the logging HOWTO's "Optimization")
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy, lvl in (("uvicorn.access", logging.WARNING), ("apscheduler.scheduler", logging.ERROR),
                       ("apscheduler.executors.default", logging.WARNING), ("httpx", logging.WARNING)):
        logging.getLogger(noisy).setLevel(lvl)
