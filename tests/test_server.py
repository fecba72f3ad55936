"""The server a verification and the tests serve apps with: uvicorn in a thread on loopback."""

from __future__ import annotations

import threading

import httpx
import pytest

from example_provider import create_app
from pipeline.server import running_server


def serving_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "uvicorn"]


def test_the_server_and_its_port_are_gone_when_its_block_ends() -> None:
    before = serving_threads()
    with running_server(create_app()) as url:
        assert httpx.get(f"{url}/product/10").status_code == 200
    assert serving_threads() == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/product/10")
