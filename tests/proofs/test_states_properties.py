from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, rule, run_state_machine_as_test
from starlette.testclient import TestClient

from example_provider.store import BASELINE
from pipeline.server import running_server
from states import UnknownState, create_verification_app, registry

from .budget import sized
from .contract import JSON_UTF8
from .report import Proof

if TYPE_CHECKING:
    import httpx2  # what Starlette's TestClient answers with

BASELINE_JSON = [product.to_json() for product in BASELINE]
EXISTS = "a product with ID {} exists"
MISSING = "a product with ID {} does not exist"
SEQUENCES = sized(10, 200)
STEPS = 30
EXAMPLES = sized(50, 1000)

HARD_IDS = (
    "10",
    "09",
    "12",
    " 10",
    "10 ",
    "a b",
    "..",
    ".",
    "%2F",
    "a/b",
    "\x00",
    "\t",
    "é",
    "☃",
    "🦄",
    "e\u0301",
    "\u200b",
    "\ufeff",
    "-1",
    "Product 10",
)
# Any text the `{id}` of a state name can hold: a line feed is not one (the pattern's `.` does not match it).
IDS = st.one_of(
    st.sampled_from(HARD_IDS),
    st.text(min_size=1, max_size=24),
    st.builds(lambda char, times: char * times, st.characters(exclude_characters="\n/"), st.integers(1_000, 3_000)),
)
VALUES = st.one_of(
    st.text(max_size=24),
    st.sampled_from(["", " ", "\t\n", "CREDIT_CARD", "PERSONAL_LOAN"]),
    st.integers(-(10**18), 10**18),
    st.booleans(),
    st.none(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
)
PARAMS = st.fixed_dictionaries({}, optional={"type": VALUES, "name": VALUES, "id": st.one_of(VALUES, IDS)})


def _field(values: dict[str, Any], key: str, default: str) -> str | None:
    """A product field as a state sets it: text or a number written out; None when refused."""
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) if str(value).strip() else None


def expected_product(
    catalogue: dict[str, dict[str, str]], name_id: str, params: dict[str, Any]
) -> dict[str, str] | None:
    """The product `a product with ID {name_id} exists` with params makes, or None when it is refused."""
    values = {"id": name_id, **params}
    product_id = _field(values, "id", "")
    if product_id is None:
        return None
    current = catalogue.get(product_id)
    kind = _field(values, "type", current["type"] if current else "CREDIT_CARD")
    name = _field(values, "name", current["name"] if current else f"Product {product_id}")
    if kind is None or name is None:
        return None
    return {"id": product_id, "type": kind, "name": name}


def declared(name: str) -> bool:
    """Whether a state name refers to a declared provider state."""
    try:
        registry.find(name)
    except UnknownState:
        return False
    return True


def encoded(product_id: str) -> str:
    """Every byte of an id percent-encoded, so no client or server step can reinterpret it."""
    return "".join(f"%{byte:02X}" for byte in product_id.encode())


class StatesOverHTTP(RuleBasedStateMachine):
    """Random sequences of setups, teardowns and reads through the real states endpoint, against a model."""

    known = Bundle("known")

    def __init__(self, client: httpx.Client, states_path: str, proof: Proof) -> None:
        super().__init__()
        self.client, self.states_path, self.proof = client, states_path, proof
        self.catalogue = {product["id"]: product for product in BASELINE_JSON}
        proof.count("sequences")

    def _answer(self, response: httpx.Response) -> Any:
        """The JSON of an answer that is never a 5xx and always JSON with the charset."""
        self.proof.count("requests")
        assert response.status_code < 500, response.text
        assert response.headers["content-type"] == JSON_UTF8
        return response.json()

    def _change(self, state: str, action: str = "setup", params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """POST a state change, the body written by hand so NaN and odd text go as they are."""
        body = json.dumps({"state": state, "action": action, "params": params or {}})
        response = self.client.post(self.states_path, content=body, headers={"content-type": "application/json"})
        return response.status_code, self._answer(response)

    def _get(self, path: str) -> tuple[int, Any]:
        """GET a path of the API; the status and the JSON answer."""
        response = self.client.get(path)
        return response.status_code, self._answer(response)

    def _assert_served(self, product_id: str, prefix: str = "/product/") -> None:
        """GET of an id answers the model's product, or its 404."""
        status, body = self._get(prefix + encoded(product_id))
        if product_id in self.catalogue:
            assert (status, body) == (200, self.catalogue[product_id])
        else:
            assert (status, body) == (404, {"error": f"no product with ID {product_id}"})

    @rule(target=known, name_id=IDS, params=PARAMS)
    def set_up_a_product(self, name_id: str, params: dict[str, Any]) -> Any:
        """`a product with ID X exists`: the product with the fields asked is served at once, or 400."""
        self.proof.count("steps")
        status, body = self._change(EXISTS.format(name_id), params=params)
        product = expected_product(self.catalogue, name_id, params) if "\n" not in name_id else None
        if product is None:
            assert status == 400 and body["error"]
            return multiple()
        assert (status, body) == (200, product)
        self.catalogue[product["id"]] = product
        if "/" not in product["id"]:
            self._assert_served(product["id"])
        return product["id"]

    @rule(product_id=st.one_of(known, IDS), params=st.one_of(st.just({}), PARAMS))
    def set_up_a_missing_product(self, product_id: str, params: dict[str, Any]) -> None:
        """`a product with ID X does not exist`: its GET is a 404 at once, or 400."""
        self.proof.count("steps")
        status, body = self._change(MISSING.format(product_id), params=params)
        removed = _field({"id": product_id, **params}, "id", "") if "\n" not in product_id else None
        if removed is None:
            assert status == 400 and body["error"]
            return
        assert (status, body) == (200, {"id": removed})
        self.catalogue.pop(removed, None)
        if "/" not in removed:
            self._assert_served(removed, "/products/")

    @rule()
    def set_up_products_exist(self) -> None:
        """`products exist`: the baseline comes back only if the catalogue is empty."""
        self.proof.count("steps")
        if not self.catalogue:
            self.catalogue = {product["id"]: product for product in BASELINE_JSON}
        assert self._change("products exist") == (200, {"ids": sorted(self.catalogue)})

    @rule()
    def set_up_no_products(self) -> None:
        """`no products exist`: the list is `[]`."""
        self.proof.count("steps")
        assert self._change("no products exist") == (200, {"ids": []})
        self.catalogue = {}
        assert self._get("/products") == (200, [])

    @rule(name=st.one_of(st.just(""), IDS.map(EXISTS.format), IDS.map(MISSING.format), st.text(max_size=30)))
    def tear_down(self, name: str) -> None:
        """A teardown of a declared state (or none) returns to the baseline; an unknown one is 400."""
        self.proof.count("steps")
        status, body = self._change(name, action="teardown")
        if name and not declared(name):
            assert (status, body["state"], body["known"]) == (400, name, registry.patterns)
            return
        assert (status, body) == (200, {})
        self.catalogue = {product["id"]: product for product in BASELINE_JSON}
        assert self._get("/products") == (200, BASELINE_JSON)

    @rule(product_id=st.one_of(known, IDS), prefix=st.sampled_from(["/product/", "/products/"]))
    def get_one(self, product_id: str, prefix: str) -> None:
        """Any id the URL can carry answers what the model holds."""
        self.proof.count("steps")
        if "/" not in product_id:
            self._assert_served(product_id, prefix)

    @rule()
    def get_all(self) -> None:
        """The list is the model's catalogue in id order."""
        self.proof.count("steps")
        assert self._get("/products") == (200, [self.catalogue[key] for key in sorted(self.catalogue)])

    def teardown(self) -> None:
        """End the sequence as a verifier does: the teardown returns the catalogue to the baseline."""
        assert self._change("", action="teardown") == (200, {})
        assert self._get("/products") == (200, BASELINE_JSON)


@pytest.fixture(scope="module")
def states_server() -> Iterator[tuple[httpx.Client, str]]:
    """A real server of a verification app: a client on its base URL, and its states path."""
    app = create_verification_app()
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, app.state.states_path


def test_random_state_sequences_keep_the_invariants(proof: Proof, states_server: tuple[httpx.Client, str]) -> None:
    """Setups, teardowns and reads in random order over HTTP: the API always serves what the states made."""
    client, states_path = states_server
    run_state_machine_as_test(
        lambda: StatesOverHTTP(client, states_path, proof),  # type: ignore[arg-type]  # documented: any factory
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert proof.tried["sequences"] >= SEQUENCES


# Any code point, lone surrogates (valid JSON escapes, not text) drawn often on purpose.
TEXT = st.lists(st.characters() | st.characters(categories=["Cs"]), max_size=20).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=16,
)
STATE_NAMES = st.one_of(
    TEXT, IDS.map(EXISTS.format), IDS.map(MISSING.format), st.sampled_from(["", "products exist", "no products exist"])
)
SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "state": st.one_of(STATE_NAMES, JSON_VALUES),
        "action": st.one_of(st.sampled_from(["setup", "teardown", "SETUP", ""]), JSON_VALUES),
        "params": st.one_of(
            st.dictionaries(st.sampled_from(["id", "type", "name"]) | TEXT, JSON_VALUES, max_size=3), JSON_VALUES
        ),
    },
)
HOSTILE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 20_000).map(
        lambda depth: b'{"state": "products exist", "params": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    ),
    st.integers(4_000, 6_000).map(
        lambda digits: b'{"state": "a product with ID 1 exists", "params": {"name": ' + b"7" * digits + b"}}"
    ),
    st.sampled_from(
        [
            b"\xef\xbb\xbf{}",
            '{"state": "products exist"}'.encode("utf-16"),
            b'{"state": "\\ud800"}',
            b"NaN",
            b"-Infinity",
            b'{"state": "',
            b"\x00",
        ]
    ),
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
            "application/json-patch+json",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)


def _assert_refused_or_done(response: httpx2.Response) -> None:
    """Never a 5xx: a 4xx with a JSON `{"error": ...}`, or a JSON 200 when the input happened to be valid."""
    assert response.status_code == 200 or 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"] == JSON_UTF8
    body = response.json()
    if response.status_code != 200:
        assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"]


def _settings() -> settings:
    """Hypothesis settings of the endpoint-input proofs: bounded and reproducible."""
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def test_any_json_body_is_answered_without_a_server_error(proof: Proof) -> None:
    """Arbitrary JSON values, and objects shaped like state requests, as the body: 200 or a JSON 4xx."""
    app = create_verification_app()
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:

        @_settings()
        @given(body=st.one_of(JSON_VALUES, SHAPED))
        def post(body: Any) -> None:
            proof.count("examples")
            response = client.post(
                app.state.states_path, content=json.dumps(body), headers={"content-type": "application/json"}
            )
            _assert_refused_or_done(response)

        post()


def test_any_bytes_and_content_type_are_answered_without_a_server_error(proof: Proof) -> None:
    """Arbitrary bytes, deep nesting, huge numbers and any content type: 200 or a JSON 4xx."""
    app = create_verification_app()
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:

        @_settings()
        @given(body=HOSTILE_BYTES, content_type=CONTENT_TYPES)
        def post(body: bytes, content_type: str) -> None:
            proof.count("examples")
            response = client.post(app.state.states_path, content=body, headers={"content-type": content_type})
            _assert_refused_or_done(response)
            if content_type.split(";")[0].strip().lower() != "application/json":
                assert response.status_code == 415

        post()
