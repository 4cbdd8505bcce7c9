"""How ``serve --workers N`` starts its worker processes: forked from the checked parent.

uvicorn starts each worker with ``spawn``: a fresh interpreter that imports the whole broker again
(about 1.2 s of a start-up of 3 s on two busy cores) before it builds its broker. ``serve`` has
already imported all of it for its own check, so its workers are forked instead and start with every
module loaded; each still builds its own broker (schemas, database engine) after the fork, as before.

Forking is safe here because the parent runs no other thread by then (the checking broker is closed:
its configuration refresher has stopped, its database engine is disposed) and has opened no event
loop. ``gc.freeze()`` keeps the objects inherited from the parent out of the workers' garbage
collections, so the pages they share are not copied for that alone.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading

import structlog

log = structlog.get_logger("broker")


def fork_workers() -> bool:
    """Let uvicorn fork its workers from this process; False (uvicorn spawns them) when that is not
    safe or this uvicorn does not start them as expected."""
    import uvicorn._subprocess as uvicorn_subprocess

    import broker.web.asgi  # noqa: F401  (what the workers import first: loaded once, here)

    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others or "fork" not in multiprocessing.get_all_start_methods() \
            or not hasattr(uvicorn_subprocess, "spawn"):
        log.info("workers are spawned", threads=others)
        return False
    uvicorn_subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]
    gc.collect()
    gc.freeze()
    return True
