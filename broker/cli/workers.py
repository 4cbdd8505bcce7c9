"""How ``serve --workers N`` starts its worker processes: forked from the checked parent.

uvicorn starts each worker with ``spawn``: a fresh interpreter that imports the whole broker again
(about 1.2 s of a start-up of 3 s on two busy cores) before it builds its broker. ``serve`` has
already imported all of it for its own check, so its workers are forked instead and start with every
module loaded; each still builds its own broker (schemas, database engine) after the fork, as before.

The check itself (schemas, configuration, migrating the database) runs in a child forked for it
(:func:`check_apart`): what only the check needs (Alembic, the checking broker's objects) never enters
the process the workers are forked from, so it is not in every worker's memory either.

Forking is safe here because the parent runs no other thread by then (the checking broker lived in
its own process) and has opened no event loop. ``gc.freeze()`` keeps the objects inherited from the
parent out of the workers' garbage collections, so the pages they share are not copied for that alone
(:func:`settle_heap`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable

import structlog

from broker.errors import BrokerError

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
    settle_heap()
    return True


def settle_heap() -> None:
    """Freeze this process's objects out of later collections (``gc.freeze``), so the workers forked
    from it share those pages instead of copying them when they collect. Only the young generations
    are collected first: a full collection of the imported broker takes about 0.1 s of the start-up
    and found a few dozen unreachable objects among 140,000."""
    gc.collect(1)
    gc.freeze()


def check_apart(check: Callable[[], None], fail: Callable[[BaseException], None],
                meanwhile: Callable[[], None] = lambda: None) -> None:
    """Run ``check`` in a forked child and wait for it; ``fail`` reports its error there. The parent
    exits with the child's status when the check failed. ``meanwhile`` runs in the parent while the
    child checks (what the workers will need either way: it must start no thread). Without ``fork``,
    or with another thread running, the check runs here, then ``meanwhile``."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if others or "fork" not in multiprocessing.get_all_start_methods():
        _run(check, fail)
        meanwhile()
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        status = 1
        try:
            _run(check, fail)
            status = 0
        except SystemExit as exc:  # as sys.exit means it: None is success, a text is a failure
            status = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    meanwhile()
    _, wait_status = os.waitpid(pid, 0)
    status = os.waitstatus_to_exitcode(wait_status)
    if status != 0:
        sys.exit(status if status > 0 else 1)


def _run(check: Callable[[], None], fail: Callable[[BaseException], None]) -> None:
    try:
        check()
    except BrokerError as exc:
        fail(exc)
