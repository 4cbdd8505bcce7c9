"""structlog set-up: one JSON or console line per event, context bound per message.

Personal data never reaches a log line: the broker binds only stuurgegevens (zender, berichtcode,
referentienummer), operation names and identificaties of zaken and documents. As a second line of
defence, :func:`redact` masks values that look like a BSN (nine digits) in any event field.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_BSN = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")
_SAFE_KEYS = frozenset({"message_id", "duration_ms", "timestamp", "level", "http_status", "port"})


def redact(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    for k, v in list(event_dict.items()):
        if k in _SAFE_KEYS:
            continue
        if isinstance(v, str) and _BSN.search(v):
            event_dict[k] = _BSN.sub("*********", v)
    return event_dict


def configure(fmt: str = "console", level: str = "INFO") -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=shared + [structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy, lvl in (("uvicorn.access", logging.WARNING), ("apscheduler.scheduler", logging.ERROR),
                       ("apscheduler.executors.default", logging.WARNING), ("httpx", logging.WARNING)):
        logging.getLogger(noisy).setLevel(lvl)
