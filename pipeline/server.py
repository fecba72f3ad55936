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


class ServerDidNotStart(RuntimeError):
    """The server in the background thread did not come up."""


class PromptServer(uvicorn.Server):
    """A uvicorn server that notices it should stop, and stops, within 5 ms; uvicorn's own loop looks
    every 0.1 s, and its shutdown waits 0.1 s before it looks whether the connections are closed."""

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 1) % 864_000
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop listening, close each connection once its response is sent, and wait until they are closed."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while self.server_state.connections or self.server_state.tasks:
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


def free_port() -> int:
    """A port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(app: ASGIApp, *, port: int = 0, timeout: float = 10.0) -> Iterator[str]:
    """Serve an app with uvicorn in a thread on loopback; yield its base URL, then shut it down."""
    config = uvicorn.Config(app, host=LOOPBACK, port=port or free_port(), log_level="warning", lifespan="off")
    server = PromptServer(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ServerDidNotStart(f"the app did not start on {LOOPBACK}:{config.port}")
            time.sleep(0.005)
        yield f"http://{LOOPBACK}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
