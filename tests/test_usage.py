"""The usage map: each operation, response field and provider state of openapi.yaml with the consumers that
use it, from V2, V3 and V4 pacts."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from example_provider.app import openapi_document
from pipeline.description import Description
from pipeline.settings import Settings
from pipeline.usage import Entry, UsageError, UsageMap, load_pacts, usage_map
from states import registry
from tests.support.usage_pacts import PRODUCT, interaction, pact, write


def mapped(folder: Path, *documents: dict[str, Any], description: dict[str, Any] | None = None) -> UsageMap:
    """The map of these pacts, read through the same path as `make usage`, against openapi.yaml or `description`."""
    source, pacts = load_pacts(Settings.from_env(), write(folder, *documents))
    return usage_map(source, pacts, Description.read(description or openapi_document()), registry)


def users(entries: tuple[Entry, ...]) -> dict[str, list[str]]:
    """Each name with the consumers that use it, in order."""
    return {entry.name: list(dict.fromkeys(use.consumer for use in entry.uses)) for entry in entries}


def test_v2_v3_and_v4_pacts_name_the_same_operations_fields_and_states(tmp_path: Path) -> None:
    documents = [
        pact(
            f"v{version}",
            interaction("a product", "/product/10", PRODUCT, version=version, states=("a product with ID 10 exists",)),
            version=version,
        )
        for version in (2, 3, 4)
    ]
    found = mapped(tmp_path, *documents)
    assert users(found.operations)["GET /product/{id}"] == ["v2", "v3", "v4"]
    assert users(found.operations)["GET /products"] == []
    assert users(found.fields) == {
        "Product.id": ["v2", "v3", "v4"],
        "Product.type": ["v2", "v3", "v4"],
        "Product.name": ["v2", "v3", "v4"],
        "Error.error": [],
        "getOpenAPI.openapi": [],
        "getOpenAPI.info": [],
        "getOpenAPI.paths": [],
    }
    assert users(found.states)["a product with ID {id} exists"] == ["v2", "v3", "v4"]
    assert found.undescribed_requests == found.undescribed_fields == found.undeclared_states == ()


def test_arrays_from_each_like_and_min_rules_count_every_key_they_hold(tmp_path: Path) -> None:
    each_like = interaction("all products", "/products", [{"id": "10", "name": "A"}], version=2)
    each_like["response"]["matchingRules"] = {"$.body": {"min": 1, "match": "type"}}  # V2's eachLike
    at_least_two = interaction("two products", "/products", [{"type": "T"}, {"type": "U", "name": "B"}], version=4)
    at_least_two["response"]["matchingRules"] = {"body": {"$": {"matchers": [{"match": "type", "min": 2}]}}}
    found = users(mapped(tmp_path, pact("eachlike", each_like, version=2), pact("min", at_least_two, version=4)).fields)
    assert found["Product.id"] == ["eachlike"]
    assert found["Product.name"] == ["eachlike", "min"]
    assert found["Product.type"] == ["min"]


def test_an_encoded_v4_body_is_read_and_one_that_cannot_be_decoded_stops_the_map(tmp_path: Path) -> None:
    encoded = interaction("a product", "/product/10", version=4)
    content = base64.b64encode(json.dumps({"name": "A"}).encode()).decode()
    encoded["response"]["body"] = {"content": content, "contentType": "application/json", "encoded": "base64"}
    assert users(mapped(tmp_path / "a", pact("enc", encoded, version=4)).fields)["Product.name"] == ["enc"]
    encoded["response"]["body"]["content"] = "not base64!"
    with pytest.raises(UsageError, match=r"^interaction 1 of the pact .*0.json: its response body cannot be read"):
        mapped(tmp_path / "b", pact("enc", encoded, version=4))


ORDERS = {
    "openapi": "3.0.3",
    "paths": {
        "/orders/{id}": {
            "get": {
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}
                }
            }
        }
    },
    "components": {
        "schemas": {
            "Order": {
                "allOf": [{"$ref": "#/components/schemas/Entity"}],
                "properties": {
                    "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
                    "customer": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
            },
            "Entity": {"properties": {"id": {"type": "string"}}},
            "Line": {"properties": {"product": {"$ref": "#/components/schemas/Product"}, "quantity": {}}},
            "Product": {"properties": {"name": {"type": "string"}, "type": {"type": "string"}}},
        }
    },
}


def test_nested_objects_and_arrays_are_named_after_the_schema_they_meet(tmp_path: Path) -> None:
    body = {
        "id": "o1",
        "customer": {"name": "Ann"},
        "lines": [{"quantity": 1, "product": {"name": "28 Degrees", "colour": "blue"}}],
    }
    found = mapped(tmp_path, pact("shop", interaction("an order", "/orders/7", body)), description=ORDERS)
    assert {name: who for name, who in users(found.fields).items() if who} == {
        "Entity.id": ["shop"],
        "Order.customer": ["shop"],
        "Order.customer.name": ["shop"],
        "Order.lines": ["shop"],
        "Line.quantity": ["shop"],
        "Line.product": ["shop"],
        "Product.name": ["shop"],
    }
    assert users(found.fields)["Product.type"] == []
    assert users(found.undescribed_fields) == {"Product.colour": ["shop"]}


def test_a_path_a_provider_state_injects_still_names_its_operation(tmp_path: Path) -> None:
    injected = interaction(
        "a product the state makes",
        "/products/1",
        PRODUCT,
        version=4,
        states=("a product with ID 123 exists",),
        generators={"path": {"type": "ProviderState", "expression": "/products/${id}"}},
    )
    literal = interaction("a product by its injected id", "/product/${id}", PRODUCT)
    found = mapped(tmp_path, pact("injected", injected, version=4), pact("literal", literal))
    assert users(found.operations)["GET /products/{id}"] == ["injected"]
    assert users(found.operations)["GET /product/{id}"] == ["literal"]
    assert found.undescribed_requests == ()


def test_requests_and_states_the_description_lacks_are_flagged(tmp_path: Path) -> None:
    document = pact(
        "future-consumer",
        interaction("an order", "/orders/1", {"total": 3}, states=("an order exists",)),
        interaction("a new product", "/products", PRODUCT, method="post", status=201),
        interaction("an error", "/product/99", {"error": "gone", "code": 7}, status=404),
    )
    found = mapped(tmp_path, document)
    assert [(entry.name, entry.note) for entry in found.undescribed_requests] == [
        ("GET /orders/1", "no such path"),
        ("POST /products", "no POST on /products"),
    ]
    assert users(found.undeclared_states) == {"an order exists": ["future-consumer"]}
    assert users(found.states)["products exist"] == []
    assert set(users(found.undescribed_fields)) == {
        "GET /orders/1 200.total",
        "POST /products 201.id",
        "POST /products 201.type",
        "POST /products 201.name",
        "Error.code",
    }
    assert users(found.fields)["Error.error"] == ["future-consumer"]
