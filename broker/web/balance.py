"""Connections spread evenly over ``serve``'s worker processes.

The workers share one listening socket. Left to the event loop, the first worker to wake accepts every
connection waiting at that moment: a client that opens its pool of 16 keep-alive connections at once
could land all of them on one worker, which then does all the work on one core while the other idles
(measured: 1,070–1,270 msg/s with 15 or 16 of 16 connections on one worker, 1,660–1,800 with 6–10).

Here each worker accepts one connection at a time and keeps a count of its open connections in memory
shared with the others (created by the parent before it forks them). A worker with more open
connections than the least loaded live worker leaves a waiting connection to the others for
:data:`DEFER_SECONDS`, then takes it itself if nobody did, so a busy or stuck worker never leaves a
client waiting longer than that. Counts stay within one of each other as long as the workers keep up.

Used through uvicorn's custom loop setting (``loop="broker.web.balance:new_event_loop"``): the loop's
``create_server`` for the shared socket returns a :class:`BalancedListener` instead of uvloop's own
server. Without :func:`prepare` (one worker, or workers not forked), the loop is plain uvloop.
"""

from __future__ import annotations

import asyncio
import errno
import mmap
import multiprocessing
import os
import socket
import ssl as ssl_module
import struct
from collections.abc import Callable
from typing import Any

import structlog
import uvloop

from broker.web.metrics import running

log = structlog.get_logger("broker.web")

#: how long a worker above the least loaded one leaves a waiting connection to the others
DEFER_SECONDS = 0.002
#: after running out of file descriptors (or memory), how long accepting pauses
PAUSE_SECONDS = 0.5

_SLOT = struct.Struct("qq")  # (pid, open connections) of one worker


class Shares:
    """Each worker's pid and open connections, in memory shared by the forked workers."""

    def __init__(self, workers: int) -> None:
        self.slots = workers
        self._memory = mmap.mmap(-1, _SLOT.size * workers)  # anonymous and shared: inherited by a fork
        self._joining = multiprocessing.get_context("fork").Lock()  # two workers starting at once
        self._index: int | None = None
        self._pid = 0

    def join(self) -> None:
        """Take this process's slot: a free one, or one whose worker is gone (uvicorn restarts a
        worker that died in a new process)."""
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._joining:
            taken = self._free_slot()
            _SLOT.pack_into(self._memory, taken * _SLOT.size, pid, 0)
        self._index, self._pid = taken, pid

    def _free_slot(self) -> int:
        for index in range(self.slots):
            pid, _ = _SLOT.unpack_from(self._memory, index * _SLOT.size)
            if pid == 0 or not running(pid):
                return index
        return os.getpid() % self.slots  # more workers than slots: share one (never expected)

    def _add(self, delta: int) -> None:
        if self._index is None or self._pid != os.getpid():
            return
        offset = self._index * _SLOT.size
        pid, count = _SLOT.unpack_from(self._memory, offset)
        _SLOT.pack_into(self._memory, offset, pid, max(0, count + delta))

    def opened(self) -> None:
        self._add(1)

    def closed(self) -> None:
        self._add(-1)

    def mine(self) -> int:
        if self._index is None:
            return 0
        return int(_SLOT.unpack_from(self._memory, self._index * _SLOT.size)[1])

    def above_least(self) -> bool:
        """Whether another live worker has fewer open connections than this one."""
        mine = self.mine()
        for index in range(self.slots):
            if index == self._index:
                continue
            pid, count = _SLOT.unpack_from(self._memory, index * _SLOT.size)
            if pid and count < mine and running(pid):
                return True
        return False


_shares: Shares | None = None


def prepare(workers: int) -> None:
    """In the parent, before it forks ``workers`` workers: the shared counts they balance by."""
    global _shares
    _shares = Shares(workers) if workers > 1 else None


def closed() -> None:
    """One of this worker's connections ended (called by the HTTP protocol's ``connection_lost``)."""
    if _shares is not None:
        _shares.closed()


class BalancedListener:
    """Accepts from the shared listening socket one connection at a time, leaving it a moment to a
    less loaded worker; what uvicorn needs of an ``asyncio.Server`` (``close``, ``wait_closed``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, shares: Shares,
                 protocol_factory: Callable[[], asyncio.Protocol], ssl: ssl_module.SSLContext | None,
                 backlog: int) -> None:
        self._loop, self._sock, self._shares = loop, sock, shares
        self._factory, self._ssl = protocol_factory, ssl
        self._deferred = False  # this worker already left the waiting connection to the others once
        self._timer: asyncio.TimerHandle | None = None
        self._closed = asyncio.Event()
        self._starting: set[asyncio.Task[None]] = set()  # the loop keeps only weak references
        shares.join()
        sock.setblocking(False)
        sock.listen(backlog)
        self._listening = False
        self._listen()

    def _listen(self) -> None:
        self._timer = None
        if not self._closed.is_set() and not self._listening:
            self._loop.add_reader(self._sock.fileno(), self._readable)
            self._listening = True

    def _stop(self, seconds: float) -> None:
        if self._listening:
            self._loop.remove_reader(self._sock.fileno())
            self._listening = False
        self._timer = self._loop.call_later(seconds, self._listen)

    def _readable(self) -> None:
        if not self._deferred and self._shares.above_least():
            self._deferred = True
            self._stop(DEFER_SECONDS)
            return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):  # another worker took it
            self._deferred = False
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                log.error("accepting connections paused", error=os.strerror(exc.errno or 0),
                          seconds=PAUSE_SECONDS)
                self._stop(PAUSE_SECONDS)
            return  # e.g. ECONNABORTED: the client gave up before it was accepted
        self._deferred = False
        conn.setblocking(False)
        self._shares.opened()
        task = self._loop.create_task(self._start(conn))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn, ssl=self._ssl)
        except Exception:  # (e.g. a failed or abandoned TLS handshake: the connection is gone)
            self._shares.closed()  # the protocol never saw this connection
            conn.close()

    # -- what uvicorn calls on shutdown ----------------------------------------------------------
    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._listening:
            self._loop.remove_reader(self._sock.fileno())
            self._listening = False

    async def wait_closed(self) -> None:
        await self._closed.wait()

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._sock,)


class BalancingLoop(uvloop.Loop):
    """uvloop, whose server on the shared socket of forked workers is a :class:`BalancedListener`."""

    # the arguments uvicorn passes; anything else goes to uvloop as it is
    async def create_server(self, protocol_factory: Callable[[], asyncio.Protocol],  # type: ignore[override]
                            host: Any = None, port: Any = None, *, sock: socket.socket | None = None,
                            ssl: ssl_module.SSLContext | None = None, backlog: int = 100,
                            **kwargs: Any) -> Any:
        if _shares is None or sock is None or host is not None or port is not None or kwargs:
            return await super().create_server(protocol_factory, host, port, sock=sock, ssl=ssl,
                                               backlog=backlog, **kwargs)
        return BalancedListener(self, sock, _shares, protocol_factory, ssl, backlog)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop factory (its ``loop`` setting names this function)."""
    return BalancingLoop()


__all__ = ["BalancedListener", "BalancingLoop", "DEFER_SECONDS", "Shares", "closed", "new_event_loop", "prepare"]
