from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"
TICK = 0.005  # seconds between looks at `should_exit`; uvicorn's own loop looks every 0.1 s
SHUTDOWN_GRACE = 1  # seconds a connection still open at shutdown may take before uvicorn cancels it


class ServerDidNotStart(RuntimeError):
    """The server in the background thread did not come up."""


class PromptServer(uvicorn.Server):
    """A uvicorn server that notices within a tick that it should stop, and stops at once when
    nothing is in flight; otherwise uvicorn's own shutdown waits, at most `timeout_graceful_shutdown`."""

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 1) % 864_000
            await asyncio.sleep(TICK)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close the idle connections; if that leaves none, stop now, else as uvicorn does (it pauses 0.1 s first)."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        for _ in range(4):
            if not (self.server_state.connections or self.server_state.tasks):
                for server in self.servers:
                    await server.wait_closed()
                return
            await asyncio.sleep(TICK)
        await super().shutdown(sockets)


def _listening_socket() -> socket.socket:
    """A socket bound to a free loopback port and listening, before anyone is told its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, 0))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def running_server(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve an app with uvicorn in a thread on a free loopback port; yield its base URL, then shut it down."""
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", ws="none", timeout_graceful_shutdown=SHUTDOWN_GRACE
    )
    server = PromptServer(config)
    with _listening_socket() as sock:
        url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + timeout
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise ServerDidNotStart(f"the app did not start on {url}")
                time.sleep(TICK)
            yield url
        finally:
            server.should_exit = True
            thread.join(timeout)
