"""Inputs the property proofs found answering 500 from the states endpoint, kept as fixed examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from example_provider.store import BASELINE
from pipeline.server import running_server
from states import create_verification_app

from .contract import JSON_UTF8, send_raw
from .report import Proof

JSON = {"content-type": "application/json"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client of a fresh verification app that answers a server error as a 500, not an exception."""
    with TestClient(create_verification_app(), base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, body: bytes) -> tuple[int, object]:
    """POST raw bytes as JSON to the states path; the status and the JSON answer."""
    response = client.post(client.app.state.states_path, content=body, headers=JSON)  # type: ignore[attr-defined]
    assert response.headers["content-type"] == JSON_UTF8, response.text
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"state": "\\ud800"}', id="unknown-state-echoed"),
        pytest.param(b'{"state": "a product with ID \\ud800 exists"}', id="surrogate-id"),
        pytest.param(b'{"state": "a product with ID 5 exists", "params": {"name": "\\udfff"}}', id="surrogate-param"),
        pytest.param(b'{"state": "a product with ID 5 exists", "params": {"id": "a\\udc00"}}', id="surrogate-param-id"),
        pytest.param(
            b'{"state": "a product with ID 1 exists", "params": {"name": ' + b"7" * 5_000 + b"}}", id="5000-digit-int"
        ),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nesting-100000"),
        pytest.param(
            b'{"state": "products exist", "params": {"x": ' + b"[" * 3_000 + b"]" * 3_000 + b"}}", id="nested-param"
        ),
    ],
)
def test_unreadable_json_is_400_and_changes_nothing(proof: Proof, client: TestClient, body: bytes) -> None:
    proof.count("examples")
    assert post(client, body) == (400, {"error": "the body is not valid JSON"})
    assert client.get("/products").json() == [product.to_json() for product in BASELINE]
    assert client.app.state.provider_states.active == {}  # type: ignore[attr-defined]


def test_readable_json_near_the_limits_is_still_accepted(proof: Proof, client: TestClient) -> None:
    emoji = b'{"state": "a product with ID \\ud83d\\ude00 exists"}'
    digits = b'{"state": "a product with ID 1 exists", "params": {"name": ' + b"7" * 4_000 + b"}}"
    nested = b'{"state": "products exist", "params": {"x": ' + b"[" * 50 + b"]" * 50 + b"}}"
    proof.count("examples", 3)
    assert post(client, emoji) == (200, {"id": "😀", "type": "CREDIT_CARD", "name": "Product 😀"})
    assert post(client, digits) == (200, {"id": "1", "type": "CREDIT_CARD", "name": "7" * 4_000})
    assert post(client, nested) == (200, {"ids": ["09", "1", "10", "11", "😀"]})


def test_a_surrogate_over_real_http_leaves_the_api_serving(proof: Proof) -> None:
    app = create_verification_app()
    with running_server(app) as url:
        refused = send_raw(
            url, "POST", app.state.states_path, headers=JSON, body=b'{"state": "a product with ID \\ud800 exists"}'
        )
        listed = send_raw(url, "GET", "/products")
    proof.count("requests", 2)
    assert (refused.status_code, refused.json()) == (400, {"error": "the body is not valid JSON"})
    assert (listed.status_code, listed.json()) == (200, [product.to_json() for product in BASELINE])
