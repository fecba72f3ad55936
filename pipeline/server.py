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
    """Serve an app with uvicorn in a thread on a free loopback port; yield its base URL, then stop it (within a
    fifth of a second: uvicorn looks ten times a second, then pauses 0.1 s). Interrupted (Ctrl-C, SIGTERM), it
    is left serving while the process ends: a verifier still talking to it must not see the provider vanish,
    and report or publish failures."""
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", ws="none", timeout_graceful_shutdown=1
    )
    server, sock = uvicorn.Server(config), socket.socket()
    sock.bind((LOOPBACK, 0))  # the port is taken before anyone is told it; uvicorn closes the socket at shutdown
    url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerDidNotStart(f"the app did not start on {url}")
        time.sleep(0.005)
    try:
        yield url
    except KeyboardInterrupt:
        raise  # left serving: the process is ending
    except BaseException:
        _stop(server, thread, timeout)
        raise
    _stop(server, thread, timeout)


def _stop(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    server.should_exit = True
    thread.join(timeout)
