from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from example_provider.app import app as production_app
from example_provider.store import BASELINE
from pipeline.server import running_server
from states import create_verification_app

from .budget import sized
from .contract import JSON_UTF8, send_raw
from .report import Proof

JSON = {"content-type": "application/json"}
CHANGE = b'{"state": "no products exist", "action": "setup"}'
# Methods uvicorn's parser knows (any other is its own 400 before the app); CONNECT takes no path.
METHODS = (
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "TRACE",
    "PURGE",
    "PROPFIND",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "SEARCH",
    "REPORT",
)
LISTEN = "0A"


def encoded(text: str) -> str:
    """Every byte percent-encoded: a path segment no client or server step can reinterpret."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


def _settings(examples: int) -> settings:
    """Hypothesis settings of these proofs: bounded and reproducible."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.fixture(scope="module")
def verification() -> Iterator[tuple[Starlette, str]]:
    """A verification app and the base URL of a real server of it."""
    app = create_verification_app()
    with running_server(app) as url:
        yield app, url


def test_the_production_app_has_no_states_path(proof: Proof, production_url: str) -> None:
    """A verification app's real states path, with any method, is an unknown path on the production app."""
    path = create_verification_app().state.states_path
    for method in METHODS:
        response = send_raw(production_url, method, path, headers=JSON, body=CHANGE if method != "HEAD" else None)
        proof.count("requests")
        assert response.status_code == 404, method
        assert response.headers["content-type"] == JSON_UTF8
        if method != "HEAD":
            assert response.json() == {"error": "Not Found"}
    assert production_app.state.store.snapshot() == BASELINE


def test_no_path_under_pact_exists_in_production(proof: Proof, production_url: str) -> None:
    """Generated `/_pact/...` paths and methods: 404 in JSON, the store unchanged."""

    @_settings(sized(100, 500))
    @given(segments=st.lists(st.text(max_size=30), min_size=1, max_size=4), method=st.sampled_from(METHODS))
    def request(segments: list[str], method: str) -> None:
        target = "/_pact/" + "/".join(encoded(segment) for segment in segments)
        response = send_raw(production_url, method, target, headers=JSON, body=CHANGE if method != "HEAD" else None)
        proof.count("requests")
        assert response.status_code == 404, target
        if method != "HEAD":
            assert response.json() == {"error": "Not Found"}

    request()
    assert production_app.state.store.snapshot() == BASELINE


def test_production_routes_refuse_the_methods_they_do_not_serve(proof: Proof, production_url: str) -> None:
    """Any method a route does not serve: 405 in JSON, with the methods it does serve in Allow."""
    routes = [route for route in production_app.routes if isinstance(route, Route)]

    @_settings(sized(60, 120))
    @given(route=st.sampled_from(routes), method=st.sampled_from(METHODS))
    def request(route: Route, method: str) -> None:
        response = send_raw(production_url, method, route.path.replace("{id}", "10"))
        proof.count("requests")
        if method in (route.methods or ()):
            assert response.status_code == 200
            return
        assert response.status_code == 405, (method, route.path)
        assert response.json() == {"error": "Method Not Allowed"}
        assert {part.strip() for part in response.headers["allow"].split(",")} == route.methods

    request()


def _listening(port: int) -> list[str]:
    """The local addresses with a TCP socket listening on this port, read from the kernel's tables."""
    found = []
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        lines = Path(table).read_text().splitlines()[1:] if Path(table).exists() else []
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                words = [int(address[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(address), 8)]
                family = socket.AF_INET if width == 4 else socket.AF_INET6
                found.append(socket.inet_ntop(family, b"".join(words)))
    return found


def test_the_verification_server_listens_on_loopback_only(verification: tuple[Starlette, str]) -> None:
    """Its one listening socket is bound to 127.0.0.1: other addresses, even 127.0.0.2, refuse."""
    port = urlsplit(verification[1]).port or 0
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", port), timeout=5):
        pass
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system to read the listening address from")
    # The kernel's table proves the bound address without sending anything off loopback.
    assert _listening(port) == ["127.0.0.1"]


def test_each_verification_app_has_its_own_states_path(proof: Proof) -> None:
    """Two apps, two random paths; each real server answers 404 for the other's."""
    first, second = create_verification_app(), create_verification_app()
    assert first.state.states_path != second.state.states_path
    with running_server(first) as first_url, running_server(second) as second_url:
        for url, app, other in ((first_url, first, second), (second_url, second, first)):
            assert send_raw(url, "POST", other.state.states_path, headers=JSON, body=CHANGE).status_code == 404
            assert send_raw(url, "POST", app.state.states_path, headers=JSON, body=b'{"state": ""}').status_code == 200
            proof.count("requests", 2)
        assert first.state.store.snapshot() == second.state.store.snapshot() == BASELINE


REFUSED: tuple[tuple[dict[str, str], int], ...] = (
    ({"origin": "https://evil.example", **JSON}, 403),
    ({"origin": "null", **JSON}, 403),
    ({"origin": "http://127.0.0.1", **JSON}, 403),
    ({"content-type": "text/plain"}, 415),
    ({"content-type": "text/plain;charset=UTF-8"}, 415),
    ({"content-type": "application/x-www-form-urlencoded"}, 415),
    ({"content-type": "multipart/form-data; boundary=x"}, 415),
    ({}, 415),
    ({"origin": "https://evil.example", "content-type": "text/plain"}, 403),
)


def test_browser_shaped_requests_are_refused_and_change_nothing(
    proof: Proof, verification: tuple[Starlette, str]
) -> None:
    """A foreign Origin, or a body a form can send: refused in JSON, the catalogue and states untouched."""
    app, url = verification
    machine = app.state.provider_states
    refusals = len(machine.refused)
    for headers, status in REFUSED:
        response = send_raw(url, "POST", app.state.states_path, headers=headers, body=CHANGE)
        proof.count("requests")
        assert response.status_code == status, headers
        assert response.headers["content-type"] == JSON_UTF8
        assert response.json()["error"]
    assert len(machine.refused) == refusals + len(REFUSED)
    assert (app.state.store.snapshot(), machine.active) == (BASELINE, {})
    same_origin = send_raw(url, "POST", app.state.states_path, headers={"origin": url, **JSON}, body=b'{"state": ""}')
    assert same_origin.status_code == 200


def test_any_foreign_origin_is_refused(proof: Proof, verification: tuple[Starlette, str]) -> None:
    """Generated origins other than the server's own: 403, nothing changes."""
    app, url = verification
    origins = st.from_regex(r"\A(https?|file|chrome-extension)://[a-z0-9.-]{1,30}(:[0-9]{1,5})?\Z").filter(
        lambda origin: origin != url
    )

    @_settings(sized(60, 300))
    @given(origin=origins)
    def request(origin: str) -> None:
        response = send_raw(url, "POST", app.state.states_path, headers={"origin": origin, **JSON}, body=CHANGE)
        proof.count("requests")
        assert response.status_code == 403, origin

    request()
    assert app.state.store.snapshot() == BASELINE
