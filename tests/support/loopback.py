"""A Starlette app served by uvicorn on 127.0.0.1 in a thread: the base of the tests' stand-ins for
systems the broker talks to (a StUF endpoint, a webhook subscriber)."""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette

from tests.support.live import free_port


class LoopbackServer:
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def serve(self, app: Starlette, **options: Any) -> None:
        """Prepare ``app`` on a free loopback port (``start`` runs it); ``options``: more uvicorn
        settings (TLS: ssl_certfile, ssl_keyfile, ssl_ca_certs, ssl_cert_reqs)."""
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False,
                                lifespan="off", loop="asyncio", http="h11", **options)
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
