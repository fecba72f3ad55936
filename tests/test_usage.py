"""The usage map and can-i-remove: which consumer uses which operation, response field and provider state."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.description import Description
from pipeline.settings import Settings
from pipeline.usage import Entry, UsageError, UsageMap, load_pacts, usage_map
from pipeline.usage_report import main, show_usage
from states import registry
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, TOKEN, dead_port, environment, make, output, project_pact

PRODUCT = {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"}
VERSIONS = {2: "2.0.0", 3: "3.0.0", 4: "4.0"}


def interaction(
    description: str,
    path: str,
    body: Any = None,
    *,
    version: int = 3,
    states: tuple[str, ...] = (),
    method: str = "GET",
    status: int = 200,
    **request: Any,
) -> dict[str, Any]:
    """One HTTP interaction as a V2, V3 or V4 pact writes it."""
    response: dict[str, Any] = {"status": status}
    if body is not None:
        response["body"] = (
            {"content": body, "contentType": "application/json", "encoded": False} if version == 4 else body
        )
    written: dict[str, Any] = {
        "description": description,
        "request": {"method": method, "path": path, **request},
        "response": response,
    }
    if version == 2 and states:
        written["providerState"] = states[0]
    elif states:
        written["providerStates"] = [{"name": name} for name in states]
    return written | ({"type": "Synchronous/HTTP"} if version == 4 else {})


def pact(consumer: str, *interactions: dict[str, Any], version: int = 3) -> dict[str, Any]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": VERSIONS[version]}},
    }


def write(folder: Path, *documents: dict[str, Any]) -> Path:
    folder.mkdir(exist_ok=True)
    for number, document in enumerate(documents):
        (folder / f"{number}.json").write_text(json.dumps(document))
    return folder


def mapped(folder: Path, *documents: dict[str, Any], description: dict[str, Any] | None = None) -> UsageMap:
    """The map of these pacts, read through the same path as `make usage`, against openapi.yaml or `description`."""
    from example_provider.openapi import openapi_document

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


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, **env: str) -> tuple[int, str]:
    """A usage step in this process, as `python -m pipeline` runs it: its exit code and everything it printed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(argv))
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err and TOKEN not in printed.out + printed.err
    return code, printed.out + printed.err


def test_can_i_remove_says_yes_no_or_why_it_cannot_tell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(tmp_path / "pacts", project_pact("pactflow-example-consumer"))
    pacts = ("can-i-remove", "--pact-dir", str(folder))
    assert run(monkeypatch, capsys, *pacts, OPERATION="head  /products/{id}") == (
        0,
        "[can-i-remove] yes: no consumer relies on the operation HEAD /products/{id} in the 1 pact(s), "
        f"3 interaction(s), from {folder}/\n",
    )
    code, text = run(monkeypatch, capsys, *pacts, OPERATION="", FIELD="Product.type")
    assert code == 1
    assert text.splitlines() == [
        "[can-i-remove] no: 1 consumer(s) rely on the field Product.type in the 1 pact(s), 3 interaction(s), "
        f"from {folder}/:",
        "  - pactflow-example-consumer: 'a request to get a product (given a product with ID 10 exists)', "
        "'a request to get all products (given products exist)'",
    ]
    code, text = run(monkeypatch, capsys, *pacts, FIELD="Product.colour")
    assert code == 2 and text.startswith("[can-i-remove] 'Product.colour': no such field in example_provider/")
    assert "its fields: Product.id, Product.type, Product.name, Error.error" in text and len(text.splitlines()) == 1
    code, text = run(monkeypatch, capsys, *pacts, FIELD="")
    assert code == 2 and "FIELD=Schema.property or OPERATION=" in text


def test_pacts_that_cannot_be_read_give_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path / "broken", {"consumer": {"name": "x"}, "provider": {"name": PROVIDER}})
    code, text = run(monkeypatch, capsys, "can-i-remove", "--pact-dir", str(broken), FIELD="Product.type")
    assert (code, text) == (
        2,
        f"[can-i-remove] cannot tell: the pact {broken}/0.json cannot be read: it has no list of interactions\n",
    )
    (tmp_path / "empty").mkdir()
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(tmp_path / "empty"))
    assert code == 2 and text == f"[usage] cannot tell: no pact files (*.json) in the folder {tmp_path}/empty\n"


def test_names_from_pacts_stay_literal_in_markdown_mermaid_json_and_the_job_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = 'evil|**x**<script>\x1b[31m"]\n::error::'
    folder = write(
        tmp_path / "pacts", pact(hostile, interaction(f"desc {hostile}", "/orders", {hostile: 1}, states=(hostile,)))
    )
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(folder), **env)
    assert code == 0 and summary.read_text().count(r'evil\|\*\*x\*\*&lt;script&gt;\\x1b\[31m"\]\\x0a\:\:error\:\:') == 6
    assert "\x1b" not in text + summary.read_text() and "<script>" not in text + summary.read_text()
    assert '  c0["evil#124;#42;#42;x#42;#42;#60;script#62;#92;x1b#91;31m#34;#93;#92;x0a#58;#58;error#58;#58;"]' in text
    assert all(not line.startswith("::") for line in text.splitlines())
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(folder), "--format", "json")
    facts = json.loads(text)
    assert facts["undeclared_states"][0]["name"] == r'evil|**x**<script>\x1b[31m"]\x0a::error::'
    assert "\x1b" not in text and "\n::" not in text


def test_the_broker_selection_names_each_consumer_branch_or_environment(
    broker: BrokerDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
    broker.add_pact(
        project_pact("pactflow-example-consumer-python"), consumer_version="py-1", branch="x", deployed=True
    )
    broker.add_pact(project_pact("example-provider-states"), consumer_version="st-1", branch="feat/x", wip=True)
    env = {"PACT_BROKER_BASE_URL": broker.base_url, "PACT_BROKER_TOKEN": TOKEN, "GIT_BRANCH": "feat"}
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", **env)
    assert code == 1
    assert (
        "  - pactflow-example-consumer (latest version of pactflow-example-consumer from branch 'main' (web-1)): "
        in text
    )
    assert (
        "  - pactflow-example-consumer-python (version(s) of pactflow-example-consumer-python currently deployed "
        "to production (py-1)): 'a request to get a product (given a product with ID 10 exists)'" in text
    )
    assert (
        "  - example-provider-states (work in progress: latest version of example-provider-states from branch "
        "'feat/x'): 'a request for a product at a path" in text
    )
    request = broker.for_verification_requests[-1]
    assert request["consumerVersionSelectors"] == [
        {"mainBranch": True},
        {"deployedOrReleased": True},
        {"matchingBranch": True},
    ]
    fetched = [r for r in broker.requests if r.method == "GET" and "/pact-version/" in r.path]
    assert len(fetched) == 3 and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fetched)


def test_a_broker_that_cannot_be_reached_refuses_or_names_pacts_elsewhere_gives_no_answer(
    broker: BrokerDouble, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", PACT_BROKER_BASE_URL=dead)
    assert (code, text) == (2, f"[can-i-remove] cannot tell: could not reach the broker at {dead}: ConnectError\n")
    broker.add_pact(project_pact("pactflow-example-consumer"))
    env = {"PACT_BROKER_BASE_URL": broker.base_url, "PACT_BROKER_TOKEN": "wrong"}
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", **env)
    assert code == 2 and text.startswith("[can-i-remove] cannot tell: ") and "answered 401" in text
    elsewhere = broker.base_url.replace("127.0.0.1", "localhost")  # the broker's links name 127.0.0.1
    env = {"PACT_BROKER_BASE_URL": elsewhere, "PACT_BROKER_TOKEN": TOKEN}
    code, text = run(monkeypatch, capsys, "usage", **env)
    assert code == 2 and "the broker named a pact outside itself" in text and "not fetched" in text
    assert not any("/pact-version/" in request.path for request in broker.requests)


def test_a_map_that_cannot_be_drawn_says_why_and_fails_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_DIR", str(tmp_path))
    show_usage(Settings.from_env())
    assert capsys.readouterr().out == f"[usage] no usage map: no pact files (*.json) in the folder {tmp_path}\n"


def test_make_targets_take_their_question_as_data(tmp_path: Path) -> None:
    env = environment()
    done = make("can_i_remove", tmp_path, env, "OPERATION=GET /products/{id}$(shell touch hacked)")
    assert done.returncode == 2 and not (tmp_path / "hacked").exists()
    assert "[can-i-remove] 'GET /products/{id}$(shell touch hacked)': no such operation" in output(done)
    done = make("usage", tmp_path, env)
    assert done.returncode == 0 and "Operations no consumer calls: HEAD /products" in output(done)
