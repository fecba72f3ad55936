from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from example_provider.store import BASELINE, ProductStore
from states import StateRegistry, create_verification_app


def post(client: TestClient, body: object) -> httpx2.Response:
    return client.post(client.app.state.states_path, json=body)  # type: ignore[attr-defined]


def test_setup_answers_injectable_values_and_changes_the_store(states_client: TestClient, store: ProductStore) -> None:
    response = post(
        states_client, {"state": "a product with ID 5 exists", "params": {"name": "Five"}, "action": "setup"}
    )
    assert response.status_code == 200
    assert response.json() == {"id": "5", "type": "CREDIT_CARD", "name": "Five"}
    assert states_client.get("/product/5").json()["name"] == "Five"


def test_teardown_returns_to_baseline(states_client: TestClient, store: ProductStore) -> None:
    post(states_client, {"state": "no products exist", "action": "setup"})
    assert states_client.get("/products").json() == []
    response = post(states_client, {"state": "no products exist", "action": "teardown"})
    assert response.status_code == 200
    assert tuple(store.all()) == BASELINE


def test_missing_action_means_setup_and_empty_state_is_accepted(states_client: TestClient) -> None:
    assert post(states_client, {"state": "a product with ID 10 does not exist"}).json() == {"id": "10"}
    assert post(states_client, {"state": "", "action": "setup"}).json() == {}


def test_unknown_state_is_400_naming_it_and_the_known_ones(states_client: TestClient) -> None:
    response = post(states_client, {"state": "a widget exists", "action": "setup"})
    assert response.status_code == 400
    body = response.json()
    assert body["state"] == "a widget exists"
    assert "a product with ID {id} exists" in body["known"]
    assert states_client.app.state.provider_states.refused[-1] == body  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "JSON object"),
        ("a product with ID 1 exists", "JSON object"),
        ({}, '"state"'),
        ({"state": 5}, '"state"'),
        ({"state": "products exist", "action": "explode"}, '"action"'),
        ({"state": "products exist", "params": [1]}, '"params"'),
        ({"state": "products exist", "params": "x"}, '"params"'),
        ({"state": "a product with ID 1 exists", "params": {"name": ""}}, "name"),
    ],
)
def test_malformed_requests_are_400_with_a_json_error(states_client: TestClient, body: object, problem: str) -> None:
    response = post(states_client, body)
    assert response.status_code == 400
    assert problem in response.json()["error"]


def test_a_body_that_is_not_json_is_400(states_client: TestClient) -> None:
    path = states_client.app.state.states_path  # type: ignore[attr-defined]
    for raw in [b"not json", b"\xff\xfe", b""]:
        response = states_client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert "not valid JSON" in response.json()["error"]


def test_browser_requests_are_refused(states_client: TestClient, store: ProductStore) -> None:
    path = states_client.app.state.states_path  # type: ignore[attr-defined]
    body = '{"state": "no products exist"}'
    foreign = states_client.post(
        path, content=body, headers={"content-type": "application/json", "origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    form = states_client.post(path, content=body, headers={"content-type": "text/plain"})
    assert form.status_code == 415
    assert tuple(store.all()) == BASELINE


def test_a_rebound_dns_name_is_refused(states_client: TestClient, store: ProductStore) -> None:
    path = states_client.app.state.states_path  # type: ignore[attr-defined]
    response = states_client.post(path, json={"state": "no products exist"}, headers={"host": "attacker.example:8000"})
    assert response.status_code == 403
    assert "loopback only" in response.json()["error"]
    assert tuple(store.all()) == BASELINE


def test_states_path_is_random_per_app_and_post_only() -> None:
    first, second = create_verification_app(), create_verification_app()
    assert first.state.states_path != second.state.states_path
    assert len(first.state.states_path) > 30
    with TestClient(first, base_url="http://127.0.0.1") as client:
        assert client.get(first.state.states_path).status_code == 405
        assert client.post(second.state.states_path, json={"state": ""}).status_code == 404


def test_a_transition_that_raises_is_422_naming_the_state_and_the_error(
    store: ProductStore, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = StateRegistry()

    @broken.state("a product with ID {id} is broken")
    def product_is_broken(store: ProductStore, values: Mapping[str, Any]) -> dict[str, Any]:
        """A transition with a bug in it."""
        store.clear()
        return {"id": values["x"]}

    app = create_verification_app(store, registry=broken)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = post(client, {"state": "a product with ID 10 is broken", "action": "setup"})
        expected = {"error": "provider state 'a product with ID 10 is broken' failed: KeyError: 'x'"}
        assert (response.status_code, response.json()) == (422, expected | {"state": "a product with ID 10 is broken"})
        assert app.state.provider_states.refused == [response.json()]
        assert post(client, {"state": "a product with ID 10 is broken", "action": "teardown"}).status_code == 200
    assert tuple(store.all()) == BASELINE
    err = capsys.readouterr().err
    assert err.count("Traceback") == 1 and err.rstrip().endswith("KeyError: 'x'")
