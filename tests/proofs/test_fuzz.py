from __future__ import annotations

import socket
from collections import Counter
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from starlette.routing import Route

from example_provider.app import create_app
from example_provider.store import BASELINE

from .budget import sized
from .contract import CHECKS, JSON_UTF8, SCHEMA, assert_component_answer, assert_documented, send_raw
from .report import Proof

GENERATED = sized(150, 3000)
ID_TEMPLATES = ("/product/{id}", "/products/{id}")
ODD_METHODS = ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "POST", "PROPFIND", "PURGE")
# Each a path segment as it goes on the wire: well-formed HTTP, however odd the id it names.
ODD_IDS = (
    "10",
    "x" * 10_000,
    quote("é" * 10_000),
    quote("☃"),
    quote("日本語"),
    quote("🦄"),
    quote("שלום"),
    quote("e\u0301"),
    quote("\u200b\ufeff\u2028"),
    "%2F",
    "a%2Fb",
    "%2f",
    "..%2F..%2Fetc%2Fpasswd",
    "%5C",
    "..",
    ".",
    "%2E%2E",
    "%2e",
    "%00",
    "a%00b",
    "%0D%0A",
    "%09",
    "",
    "%20",
    "a%20b",
    "+",
    "%2B",
    "%FF",
    "%C3%28",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%",
    "%zz",
    "%%",
    "%2",
    "10%3Fx",
    "10?x=1&&y",
    "10;v=1",
    "a:b@c!$&'()*,;=",
    "%7Bid%7D",
    "~",
    "-1",
    "1e400",
    "null",
)
ODD_HEADERS: tuple[dict[str, str], ...] = (
    {"Accept": "text/html"},
    {"Accept": "application/xml;q=1, application/json;q=0"},
    {"Accept-Encoding": "gzip, br, zstd"},
    {"Accept-Language": "zz-ZZ;q=0.1"},
    {"Accept-Charset": "iso-8859-1"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Authorization": "Bearer 2019-01-14T11:34:18.045Z"},
    {"Authorization": "Basic " + "A" * 4000},
    {"Cookie": "session=" + "c" * 1000},
    {"Host": "evil.example"},
    {"Host": "[::1]:1"},
    {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    {"Range": "bytes=0-1"},
    {"If-None-Match": "*"},
    {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
    {"Expect": "100-continue"},
    {"Connection": "close"},
    {"Content-Type": "text/plain"},
    {"X-Long": "l" * 8_000},
    {"X-Latin-1": "caf\xe9 \xff"},
    {"X-Empty": ""},
    {f"X-Many-{number}": str(number) for number in range(200)},
)
JSON = {"Content-Type": "application/json"}
CHUNKED_GET = b"GET /product/10 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
CHUNKED_GET += b'c\r\n{"id": "11"}\r\n0\r\n\r\n'
MALFORMED = (
    b"GET /product/a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /product/☃ HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    b"GET /product/\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /product/10 HTTP/1.1\r\nHost: x\r\nX-Bad\x01: v\r\n\r\n",
    b"GET /product/" + quote("é" * 11_000).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /product/10 HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GARBAGE\r\n\r\n",
)


def _operations() -> set[tuple[str, str]]:
    """Every (method, path) the document describes."""
    return {
        (method, path) for path, item in SCHEMA.raw_schema["paths"].items() for method in item if method != "parameters"
    }


def expected_answer(segment: str) -> tuple[int, object]:
    """What GET of an id segment answers: the id is the path segment as the server decodes it (UTF-8, U+FFFD)."""
    product_id = unquote(segment.split("?", 1)[0])
    products = {product.id: product.to_json() for product in BASELINE}
    if product_id in products:
        return 200, products[product_id]
    if not product_id or "/" in product_id:
        return 404, {"error": "Not Found"}
    return 404, {"error": f"no product with ID {product_id}"}


def test_generated_requests_conform_to_the_document(proof: Proof, production_url: str) -> None:
    """Schemathesis generates requests for every operation; each answer conforms, none is a 5xx."""
    seen: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    session = requests.Session()

    @settings(
        max_examples=GENERATED,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=SCHEMA.as_strategy())
    def call(case: Case) -> None:
        response = case.call(base_url=production_url, session=session)
        proof.count("requests")
        seen[(case.method.lower(), case.path)] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        if response.content or case.method == "HEAD":
            assert response.headers["content-type"] == [JSON_UTF8]  # schemathesis lists each header's values

    with session:
        call()
    proof.count("operations", len(seen))
    proof.detail = "statuses " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    assert proof.tried["requests"] >= GENERATED // 3
    assert set(seen) == _operations()


@pytest.mark.parametrize("template", ID_TEMPLATES)
def test_odd_ids_are_answered_as_documented(proof: Proof, production_url: str, template: str) -> None:
    """Very long, unicode, encoded-slash, dot, NUL, empty and space ids: each GET and HEAD conforms."""
    for segment in ODD_IDS:
        target = template.replace("{id}", segment)
        if unquote(target).endswith("/"):
            # "" and "%2F" leave a trailing slash: no product route, see test_a_trailing_slash_is_an_unknown_path.
            continue
        answers = {method: send_raw(production_url, method, target) for method in ("GET", "HEAD")}
        proof.count("requests", len(answers))
        for method, response in answers.items():
            assert_documented(method, template, response, id=unquote(segment))
        status, body = expected_answer(segment)
        assert (answers["GET"].status_code, answers["GET"].json(), answers["HEAD"].status_code) == (
            status,
            body,
            status,
        )
        proof.count("ids")


def test_the_known_ids_answer_their_products(production_url: str) -> None:
    """The odd-id proof is not vacuous: the baseline ids answer 200 on both paths."""
    assert send_raw(production_url, "GET", "/product/10").status_code == 200
    assert send_raw(production_url, "GET", "/products/%31%31").json()["name"] == "MyFlexiPay"


def test_other_methods_are_405_in_json_and_unknown_paths_404(proof: Proof, production_url: str) -> None:
    """Methods a path does not serve answer the documented 405 with Allow; unknown paths the 404."""
    for route in [route for route in create_app().routes if isinstance(route, Route)]:
        path = route.path.replace("{id}", "10")
        for method in ODD_METHODS:
            response = send_raw(production_url, method, path)
            proof.count("requests")
            assert response.status_code == 405, (method, path)
            assert_component_answer("MethodNotAllowed", response)
            assert {part.strip() for part in response.headers["allow"].split(",")} == route.methods
    for method in (*ODD_METHODS, "GET"):
        response = send_raw(production_url, method, "/no/such/path")
        proof.count("requests")
        assert response.status_code == 404
        assert_component_answer("NotFound", response)
        assert response.json() == {"error": "Not Found"}


@pytest.mark.parametrize(
    ("path", "template", "parameters"),
    [
        pytest.param("/products", "/products", {}, id="/products"),
        pytest.param("/product/10", "/product/{id}", {"id": "10"}, id="/product/10"),
        pytest.param("/products/nope", "/products/{id}", {"id": "nope"}, id="/products/nope"),
        pytest.param("/openapi.json", "/openapi.json", {}, id="/openapi.json"),
    ],
)
def test_odd_headers_do_not_change_the_answer(
    proof: Proof, production_url: str, path: str, template: str, parameters: dict[str, str]
) -> None:
    """Accept, Origin, Host, forwarding, huge and latin-1 headers: the answer is the plain one."""
    plain = send_raw(production_url, "GET", path)
    for headers in ODD_HEADERS:
        response = send_raw(production_url, "GET", path, headers=headers)
        proof.count("requests")
        assert_documented("GET", template, response, **parameters)
        assert (response.status_code, response.content) == (plain.status_code, plain.content), headers


def test_a_body_on_a_get_does_not_change_the_answer(production_url: str) -> None:
    """A GET with a body, declared by length or chunked, answers as without one."""
    plain = send_raw(production_url, "GET", "/product/10")
    sized = send_raw(production_url, "GET", "/product/10", headers=JSON, body=b'{"id": "11"}')
    chunked = _exchange(production_url, CHUNKED_GET)
    assert (sized.status_code, sized.content) == (plain.status_code, plain.content)
    assert chunked.startswith(b"HTTP/1.1 200 ") and chunked.endswith(b"\r\n\r\n" + plain.content)


def _exchange(base_url: str, raw: bytes) -> bytes:
    """Send raw bytes to the server and read its answer until it closes."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_malformed_http_gets_the_servers_400_and_it_keeps_serving(proof: Proof, production_url: str) -> None:
    """Requests that are not HTTP (bad bytes, targets past uvicorn's 64 KiB limit) get uvicorn's 400, never a 5xx."""
    for raw in MALFORMED:
        status_line = _exchange(production_url, raw).split(b"\r\n", 1)[0]
        proof.count("requests")
        assert status_line.startswith(b"HTTP/1.1 4"), (raw[:60], status_line)
    assert send_raw(production_url, "GET", "/product/10").status_code == 200


@pytest.mark.parametrize("path", ["/products/", "/product/10/", "/products/%2F", "/openapi.json/"])
def test_a_trailing_slash_is_an_unknown_path(proof: Proof, production_url: str, path: str) -> None:
    """A trailing slash names no described path, so it answers the documented 404 in JSON."""
    response = send_raw(production_url, "GET", path, headers={"Host": "evil.example"})
    proof.count("requests")
    assert response.status_code == 404, (response.status_code, response.headers.get("location"))
    assert_component_answer("NotFound", response)
