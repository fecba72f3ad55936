"""What the proofs share: the OpenAPI document, raw HTTP on loopback, and the document's own checks."""

from __future__ import annotations

import copy
import http.client
import json
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import schemathesis
from openapi_schema_validator import OAS30Validator
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from example_provider.app import openapi_document

JSON_UTF8 = "application/json; charset=utf-8"
DOCUMENT: dict[str, Any] = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def resolve(node: Any, document: Mapping[str, Any] = DOCUMENT) -> Any:
    """A part of the document with every local `$ref` replaced by what it points at."""
    if isinstance(node, list):
        return [resolve(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = document
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        return resolve(target, document)
    return {key: resolve(value, document) for key, value in node.items()}


def component_response(name: str) -> dict[str, Any]:
    """A response of the document's components, such as "MethodNotAllowed", refs resolved."""
    return resolve(DOCUMENT["components"]["responses"][name])


def assert_component_answer(name: str, response: httpx.Response) -> None:
    """The response is the component response `name`: JSON of its exact media type and schema."""
    assert response.headers["content-type"] == JSON_UTF8, response.headers
    schema = component_response(name)["content"][JSON_UTF8]["schema"]
    OAS30Validator(schema).validate(json.loads(response.content))


def assert_documented(method: str, template: str, response: httpx.Response, **path_parameters: str) -> None:
    """The response conforms to the document's operation `method template`, by schemathesis' own checks."""
    case = SCHEMA[template][method].Case(path_parameters=path_parameters)
    try:
        case.validate_response(response, checks=CHECKS)
        assert response.status_code < 500
        if response.content or method.upper() == "HEAD":
            assert response.headers["content-type"] == JSON_UTF8, response.headers
    except Exception as failure:
        failure.add_note(f"the request: {method} {response.extensions.get('target', response.url)!r}")
        raise


def send_raw(
    base_url: str, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> httpx.Response:
    """Send a request exactly as given (no URL normalisation) with http.client; answer it as an httpx response."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    started = time.monotonic()
    try:
        connection.request(method, target, body=body, headers=dict(headers or {}))
        answer = connection.getresponse()
        content = answer.read()
    finally:
        connection.close()
    request = httpx.Request(
        method, f"{base_url}/", headers={key: value for key, value in (headers or {}).items() if value.isascii()}
    )
    response = httpx.Response(answer.status, headers=answer.getheaders(), content=content, request=request)
    response.elapsed = timedelta(seconds=time.monotonic() - started)
    response.extensions["target"] = target
    return response
