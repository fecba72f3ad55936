from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from example_provider.app import app as production_app
from example_provider.store import Product, ProductStore

JSON_UTF8 = "application/json; charset=utf-8"


def test_products_lists_the_catalogue(client: TestClient) -> None:
    response = client.get("/products")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_UTF8
    assert [p["id"] for p in response.json()] == ["09", "10", "11"]


def test_products_is_an_empty_list_when_the_store_is_empty(client: TestClient, store: ProductStore) -> None:
    store.clear()
    assert client.get("/products").json() == []


def test_answers_follow_every_write_to_the_store(client: TestClient, store: ProductStore) -> None:
    """The rendered JSON is kept between requests, so each kind of write must show in the next answer."""
    assert client.get("/product/10").json()["name"] == "28 Degrees"
    store.put(Product(id="10", type="DEBIT", name="Renamed"))
    assert client.get("/product/10").json() == {"id": "10", "type": "DEBIT", "name": "Renamed"}
    store.remove("09")
    assert [p["id"] for p in client.get("/products").json()] == ["10", "11"]
    assert client.get("/product/09").status_code == 404
    store.replace([Product(id="42", type="CREDIT_CARD", name="New")])
    assert client.get("/products").json() == [{"id": "42", "type": "CREDIT_CARD", "name": "New"}]
    store.clear()
    assert client.get("/products").json() == []


@pytest.mark.parametrize("path", ["/product/10", "/products/10"])
def test_one_product_by_id(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_UTF8
    assert response.json() == {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"}


@pytest.mark.parametrize("path", ["/product/99", "/products/99", "/product/%E2%98%83"])
def test_unknown_id_is_404_in_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == JSON_UTF8
    assert "no product with ID" in response.json()["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_in_json(client: TestClient, method: str) -> None:
    response = client.request(method, "/product/10")
    assert response.status_code == 405
    assert response.json() == {"error": "Method Not Allowed"}


def test_unknown_path_is_404_in_json(client: TestClient) -> None:
    response = client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_production_app_has_a_store_and_no_states_route() -> None:
    with TestClient(production_app) as client:
        assert client.get("/product/10").status_code == 200
        for path in ["/_pact/provider-states", "/_pact/provider-states/anything", "/_pact/provider_states"]:
            assert client.post(path, json={"state": "no products exist"}).status_code == 404
        assert client.get("/products").json() != []


def test_service_package_does_not_import_pact() -> None:
    """A fresh interpreter in a subprocess: this test's process has imported pact already."""
    import subprocess
    import sys

    code = "import sys, example_provider.app; sys.exit('pact' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
