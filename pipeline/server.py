from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"
TICK = 0.1  # seconds between uvicorn's housekeeping ticks, as in its own loop
POLL = 0.005  # seconds between looks: has the server started, have its connections closed
SHUTDOWN_GRACE = 1  # seconds a connection still open at shutdown may take before uvicorn cancels it


class ServerDidNotStart(RuntimeError):
    """The server in the background thread did not come up."""


class PromptServer(uvicorn.Server):
    """A uvicorn server that wakes as soon as it is told to stop (`stop`), and stops at once when nothing
    is in flight; otherwise uvicorn's own shutdown waits, at most `timeout_graceful_shutdown`. Idle, it
    wakes only for uvicorn's housekeeping, ten times a second."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.woken: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def main_loop(self) -> None:
        stop = asyncio.Event()
        self.woken = (asyncio.get_running_loop(), stop)
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK)

    def stop(self) -> None:
        """Tell the server, from any thread, to stop; its loop wakes at once (or, not yet running, never waits)."""
        self.should_exit = True
        if self.woken is not None:
            loop, stop = self.woken
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(stop.set)

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
            await asyncio.sleep(POLL)
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
                time.sleep(POLL)
            yield url
        finally:
            server.stop()
            thread.join(timeout)
