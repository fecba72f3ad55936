from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

import example_provider
from example_provider.app import app as production_app
from example_provider.app import create_app, openapi_document
from example_provider.store import ProductStore

JSON_UTF8 = "application/json; charset=utf-8"
YAML_FILE = Path(example_provider.__file__).parent / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def described() -> dict[str, set[str]]:
    """Every path of the document with the methods it describes, upper case as Starlette lists them."""
    return {
        path: {method.upper() for method in item if method in METHODS}
        for path, item in openapi_document()["paths"].items()
    }


def routed() -> dict[str, set[str]]:
    """Every route of the app with its methods, path converters written as plain OpenAPI templates."""
    routes = [route for route in create_app().routes if isinstance(route, Route)]
    return {re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path): set(route.methods or ()) for route in routes}


def resolve(node: Any) -> Any:
    """A part of the document with every local `$ref` replaced by its target."""
    if isinstance(node, list):
        return [resolve(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = openapi_document()
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        return resolve(target)
    return {key: resolve(value) for key, value in node.items()}


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The schema the document gives the JSON body of one answer."""
    response = resolve(openapi_document()["paths"][path][method]["responses"][str(status)])
    return response["content"][JSON_UTF8]["schema"]


def documented_examples() -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every example in the document, with where it is and the schema it illustrates."""
    document = resolve(openapi_document())
    for name, response in document["components"]["responses"].items():
        for content in response.get("content", {}).values():
            for label, example in content.get("examples", {}).items():
                yield f"responses/{name}/{label}", example["value"], content["schema"]
    for name, schema in document["components"]["schemas"].items():
        for field, part in schema.get("properties", {}).items():
            if "example" in part:
                yield f"schemas/{name}/{field}", part["example"], part
    for name, parameter in document["components"]["parameters"].items():
        yield f"parameters/{name}", parameter["example"], parameter["schema"]


def test_the_app_serves_the_yaml_as_json() -> None:
    with TestClient(production_app) as client:
        response = client.get("/openapi.json")
        head = client.head("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_UTF8
    assert response.json() == yaml.safe_load(YAML_FILE.read_text(encoding="utf-8"))
    assert (head.status_code, head.content) == (200, b"")


def test_the_document_is_valid_openapi() -> None:
    validate(openapi_document())


def test_every_route_is_described_with_its_methods() -> None:
    documented = described()
    for path, methods in routed().items():
        assert documented.get(path) == methods, (
            f"{path} {sorted(methods)} is routed but described as {documented.get(path)}"
        )


def test_every_described_path_is_routed_with_its_methods() -> None:
    routes = routed()
    for path, methods in described().items():
        assert routes.get(path) == methods, f"{path} {sorted(methods)} is described but routed as {routes.get(path)}"


def test_every_path_parameter_is_declared() -> None:
    for path, item in resolve(openapi_document())["paths"].items():
        declared = {parameter["name"] for parameter in item.get("parameters", []) if parameter["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path


def test_every_json_answer_is_documented_with_the_exact_media_type() -> None:
    for path, item in resolve(openapi_document())["paths"].items():
        for method, operation in item.items():
            for response in operation.get("responses", {}).values() if method in METHODS else []:
                assert set(response.get("content", {})) <= {JSON_UTF8}, (path, method)


@pytest.mark.parametrize(
    ("example", "schema"), [pytest.param(example, schema, id=where) for where, example, schema in documented_examples()]
)
def test_every_example_fits_its_schema(example: Any, schema: dict[str, Any]) -> None:
    OAS30Validator(schema).validate(example)


@pytest.mark.parametrize(
    ("path", "template", "status"),
    [
        ("/products", "/products", 200),
        ("/product/10", "/product/{id}", 200),
        ("/products/11", "/products/{id}", 200),
        ("/product/nope", "/product/{id}", 404),
        ("/products/%E2%98%83", "/products/{id}", 404),
        ("/openapi.json", "/openapi.json", 200),
    ],
)
def test_live_answers_fit_the_documented_schemas(client: TestClient, path: str, template: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == JSON_UTF8
    OAS30Validator(response_schema(template, "get", status)).validate(response.json())


def test_an_empty_catalogue_fits_the_list_schema(client: TestClient, store: ProductStore) -> None:
    store.clear()
    assert client.get("/products").json() == []
    OAS30Validator(response_schema("/products", "get", 200)).validate([])


def test_unknown_paths_and_other_methods_fit_the_error_responses(client: TestClient) -> None:
    components = resolve(openapi_document())["components"]["responses"]
    missing = client.get("/nothing/here")
    refused = client.put("/product/10")
    assert (missing.status_code, refused.status_code) == (404, 405)
    OAS30Validator(components["NotFound"]["content"][JSON_UTF8]["schema"]).validate(missing.json())
    OAS30Validator(components["MethodNotAllowed"]["content"][JSON_UTF8]["schema"]).validate(refused.json())
    assert {method.strip() for method in refused.headers["allow"].split(",")} == described()["/product/{id}"]
