"""Serving an app with uvicorn in a background thread, on a free loopback port, the documented way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from pipeline import PipelineError

LOOPBACK = "127.0.0.1"


class ServerDidNotStart(PipelineError):
    """The server in the background thread did not come up."""


@contextmanager
def running_server(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve an app with uvicorn in a thread on a free loopback port; yield its base URL, then shut it down."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))  # the port is taken before anyone is told it
        url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + timeout
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise ServerDidNotStart(f"the app did not start on {url}")
                time.sleep(0.005)
            yield url
        finally:
            server.should_exit = True
            thread.join(timeout)
