"""End-to-end checks of the broker double with the real Pact clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pact import Verifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.server import running_server
from tests.support.broker import BrokerDouble

PROVIDER = "ProductProvider"
CONSUMER = "ProductConsumer"
PRODUCT = {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"}
PACT_CLI = Path(sys.executable).with_name("pact")
WEBHOOK_UUID = "0b7f0b0b-6c1c-4f39-8d46-1b8e2b5f3a10"


def pact_document(consumer: str = CONSUMER, product_id: str = "10") -> dict[str, Any]:
    """A V4 pact with one HTTP interaction and no provider state."""
    return {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": [
            {
                "type": "Synchronous/HTTP",
                "description": f"a request for product {product_id}",
                "request": {"method": "GET", "path": f"/product/{product_id}"},
                "response": {
                    "status": 200,
                    "headers": {"Content-Type": ["application/json; charset=utf-8"]},
                    "body": {
                        "contentType": "application/json",
                        "encoded": False,
                        "content": PRODUCT | {"id": product_id},
                    },
                },
            }
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }


def product_app(product: dict[str, Any]) -> Starlette:
    """A provider that answers GET /product/{id} with `product` (and that id)."""

    async def get_product(request: Request) -> Response:
        body = product | {"id": request.path_params["product_id"]}
        return Response(json.dumps(body), media_type="application/json; charset=utf-8")

    return Starlette(routes=[Route("/product/{product_id}", get_product)])


@pytest.fixture(scope="module", autouse=True)
def pact_environment() -> Iterator[None]:
    """No tracking, and no broker settings leaking in from the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PACT_DO_NOT_TRACK", "true")
        for name in ("PACT_BROKER_BASE_URL", "PACT_BROKER_TOKEN", "PACT_BROKER_USERNAME", "PACT_BROKER_PASSWORD"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    """A provider that keeps the contract."""
    with running_server(product_app(PRODUCT)) as url:
        yield url


@pytest.fixture(scope="module")
def broken_provider_url() -> Iterator[str]:
    """A provider that breaks the contract."""
    with running_server(product_app(PRODUCT | {"type": 42})) as url:
        yield url


@pytest.fixture
def broker() -> Iterator[BrokerDouble]:
    """A started broker double with the default token."""
    with BrokerDouble() as double:
        yield double


def verifier(url: str) -> Verifier:
    """A verifier of PROVIDER against a provider URL."""
    return Verifier(PROVIDER, host="127.0.0.1").add_transport(url=url)


def verify_from_broker(broker: BrokerDouble, url: str, version: str = "abc123", **credentials: str) -> Verifier:
    """Verify the pacts the broker selects and publish the results."""
    credentials = credentials or {"token": "test-token"}
    return (
        verifier(url)
        .broker_source(broker.base_url, selector=True, **credentials)  # type: ignore[call-overload]
        .consumer_version(main_branch=True)
        .consumer_version(deployed_or_released=True)
        .include_pending()
        .include_wip_since("2020-01-01")
        .provider_branch("main")
        .build()
        .set_publish_options(version=version, branch="main")
        .verify()
    )


def pact_cli(broker: BrokerDouble, *args: str, auth: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `pact broker ...` against the double."""
    auth = auth if auth is not None else ("--broker-token", "test-token")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACT_BROKER_")}
    return subprocess.run(
        [str(PACT_CLI), "broker", *args, "--broker-base-url", broker.base_url, *auth],
        capture_output=True,
        text=True,
        env=env | {"PACT_DO_NOT_TRACK": "true"},
        timeout=60,
        check=False,
    )


def can_i_deploy_args(version: str) -> tuple[str, ...]:
    """`pact broker` arguments that ask whether this provider version can go to production."""
    return ("can-i-deploy", "--pacticipant", PROVIDER, "--version", version, "--to-environment", "production")


def can_i_deploy(broker: BrokerDouble, version: str) -> tuple[int, bool | None]:
    """Exit code of can-i-deploy, and the `deployable` its JSON output reports."""
    args = can_i_deploy_args(version)
    table = pact_cli(broker, *args)
    as_json = pact_cli(broker, *args, "--output", "json")
    return table.returncode, json.loads(as_json.stdout)["summary"]["deployable"]


def http(broker: BrokerDouble) -> httpx.Client:
    """A plain HTTP client authenticated against the double."""
    return httpx.Client(base_url=broker.base_url, headers={"Authorization": "Bearer test-token"})


def test_verifier_selects_from_broker_and_publishes(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document(), consumer_version="c1", deployed=True)
    broker.add_pact(pact_document("WipConsumer"), consumer_version="w1", branch="feat", wip=True)

    verify_from_broker(broker, provider_url)

    [request] = broker.for_verification_requests
    assert request["consumerVersionSelectors"] == [{"mainBranch": True}, {"deployedOrReleased": True}]
    assert request["providerVersionBranch"] == "main"
    assert request["includePendingStatus"] is True
    assert request["includeWipPactsSince"] == "2020-01-01"
    results = {r["consumer"]: r for r in broker.verification_results}
    assert set(results) == {CONSUMER, "WipConsumer"}
    result = results[CONSUMER]
    assert result["success"] is True
    assert result["providerApplicationVersion"] == result["provider_version"] == "abc123"
    assert result["branch"] == "main"
    assert result["consumer_versions"] == ["c1"]
    assert result["testResults"] and all(t["success"] for t in result["testResults"])
    assert (PROVIDER, "main", "abc123") in broker.provider_branch_versions


def test_add_source_verifies_one_pact_and_publishes(broker: BrokerDouble, provider_url: str) -> None:
    permalink = broker.add_pact(pact_document(), consumer_version="c7")

    verifier(provider_url).add_source(permalink, token="test-token").set_publish_options(
        version="def456", branch="main"
    ).verify()

    [result] = broker.verification_results
    assert result["success"] is True
    assert (result["provider_version"], result["consumer_versions"]) == ("def456", ["c7"])
    assert any(r.method == "GET" and r.path.endswith("/version/c7") for r in broker.requests)


def test_can_i_deploy_unknown_then_true(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document(), consumer_version="c1")
    broker.add_version(PROVIDER, "abc123", branch="main")
    assert can_i_deploy(broker, "abc123") == (1, None)

    verify_from_broker(broker, provider_url)

    assert can_i_deploy(broker, "abc123") == (0, True)
    matrix = [r for r in broker.requests if r.path == "/matrix"][-1]
    assert "q[][pacticipant]=ProductProvider" in matrix.query
    assert "environment=production" in matrix.query


def test_can_i_deploy_false_after_failed_verification(broker: BrokerDouble, broken_provider_url: str) -> None:
    broker.add_pact(pact_document(), consumer_version="c1")

    with pytest.raises(RuntimeError):
        verify_from_broker(broker, broken_provider_url, version="bad1")

    [result] = broker.verification_results
    assert result["success"] is False
    assert can_i_deploy(broker, "bad1") == (1, False)
    assert can_i_deploy(broker, "never-published") == (1, False)


def test_failing_pending_pact_does_not_fail_verification(broker: BrokerDouble, broken_provider_url: str) -> None:
    broker.add_pact(pact_document(), consumer_version="c1", pending=True)

    verify_from_broker(broker, broken_provider_url, version="bad2")  # no exception: the pact is pending

    [result] = broker.verification_results
    assert result["success"] is False


def test_matrix_checks_the_pacts_deployed_to_the_environment(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document(), consumer_version="c1", deployed=True)
    verify_from_broker(broker, provider_url)
    broker.add_pact(pact_document(product_id="11"), consumer_version="c2")  # newer, not deployed
    query = "q[][pacticipant]=ProductProvider&q[][version]=abc123&latestby=cvpv"

    with http(broker) as client:
        in_production = client.get(f"/matrix?{query}&environment=production").json()
        on_main = client.get(f"/matrix?{query}").json()
        no_env = client.get(f"/matrix?{query}&environment=nowhere")

    assert in_production["summary"]["deployable"] is True
    assert on_main["summary"] | {"reason": ""} == {
        "deployable": None,
        "reason": "",
        "success": 0,
        "failed": 0,
        "unknown": 1,
    }
    assert no_env.status_code == 400


def test_selectors_pending_and_wip(broker: BrokerDouble) -> None:
    broker.add_pact(pact_document("A"), consumer_version="a1", branch="main")
    broker.add_pact(pact_document("A", "11"), consumer_version="a2", branch="main", pending=True)
    broker.add_pact(pact_document("B"), consumer_version="b1", branch="feat-x")
    broker.add_pact(pact_document("C"), consumer_version="c1", branch="feat-y", wip=True)
    url = f"/pacts/provider/{PROVIDER}/for-verification"

    def select(**body: Any) -> list[tuple[str, bool, bool]]:
        answer = client.post(url, json=body)
        assert answer.status_code == 200, answer.text
        return sorted(
            (p["_links"]["self"]["name"], p["verificationProperties"]["pending"], p["verificationProperties"]["wip"])
            for p in answer.json()["_embedded"]["pacts"]
        )

    with http(broker) as client:
        assert select(consumerVersionSelectors=[{"mainBranch": True}], includePendingStatus=True) == [
            (f"Pact between A (a2) and {PROVIDER}", True, False)
        ]
        assert select(consumerVersionSelectors=[{"matchingBranch": True}], providerVersionBranch="feat-x") == [
            (f"Pact between B (b1) and {PROVIDER}", False, False)
        ]
        assert select(consumerVersionSelectors=[{"branch": "main", "consumer": "A", "latest": False}]) == [
            (f"Pact between A (a1) and {PROVIDER}", False, False),
            (f"Pact between A (a2) and {PROVIDER}", False, False),
        ]
        assert select(consumerVersionSelectors=[{"deployedOrReleased": True}]) == []
        assert [
            name
            for name, _, wip in select(
                consumerVersionSelectors=[{"mainBranch": True}], includeWipPactsSince="2020-01-01"
            )
            if wip
        ] == [f"Pact between C (c1) and {PROVIDER}"]
        bad = client.post(url, json={"consumerVersionSelectors": [{"matchingBranch": True}]})
        unknown = client.post("/pacts/provider/Nobody/for-verification", json={})
    assert bad.status_code == 400 and "consumerVersionSelectors" in bad.json()["errors"]
    assert unknown.status_code == 404
    assert len(broker.for_verification_requests) == 7


def test_the_notices_name_the_branch_or_environment_that_selected_a_pact(broker: BrokerDouble) -> None:
    broker.add_pact(pact_document("A"), consumer_version="a1", branch="main", deployed=True)
    broker.add_pact(pact_document("C"), consumer_version="c1", branch="feat-y", wip=True)
    body = {"consumerVersionSelectors": [{"mainBranch": True}, {"deployedOrReleased": True}]}
    with http(broker) as client:
        answer = client.post(f"/pacts/provider/{PROVIDER}/for-verification", json=body | {"includeWipPactsSince": "x"})
    selected, wip = answer.json()["_embedded"]["pacts"]
    (notice,) = selected["verificationProperties"]["notices"]
    assert notice["text"].endswith(
        "is being verified because the pact content belongs to the consumer versions matching the following "
        "criteria: latest version of A from branch 'main' (a1); version(s) of A currently deployed to production (a1)"
    )
    assert (
        "because it is a 'work in progress' pact (ie. it is the pact for the latest version of C from branch "
        "'feat-y' and is still in pending state)" in wip["verificationProperties"]["notices"][0]["text"]
    )


def test_record_deployment_via_cli(broker: BrokerDouble) -> None:
    broker.add_version(PROVIDER, "abc123", branch="main")

    done = pact_cli(
        broker, "record-deployment", "--pacticipant", PROVIDER, "--version", "abc123", "--environment", "production"
    )
    unknown = pact_cli(
        broker, "record-deployment", "--pacticipant", PROVIDER, "--version", "nope", "--environment", "production"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert unknown.returncode != 0
    assert broker.deployments == [
        {"pacticipant": PROVIDER, "version": "abc123", "environment": "production", "applicationInstance": None}
    ]


def test_webhook_created_and_tested_via_cli(broker: BrokerDouble) -> None:
    body = json.dumps({"pactUrl": "${pactbroker.pactUrl}"})
    created = pact_cli(
        broker,
        "create-or-update-webhook",
        "https://ci.example/hook",
        "--uuid",
        WEBHOOK_UUID,
        "--provider",
        PROVIDER,
        "--contract-requiring-verification-published",
        "--request",
        "POST",
        "--header",
        "Content-Type: application/json",
        "Authorization: token ${user.ciToken}",
        "--data",
        body,
        "--description",
        "verify changed pacts",
    )
    tested = pact_cli(broker, "test-webhook", "--uuid", WEBHOOK_UUID)

    assert created.returncode == 0, created.stdout + created.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    webhook = broker.webhooks[WEBHOOK_UUID]
    assert webhook["events"] == [{"name": "contract_requiring_verification_published"}]
    assert webhook["provider"] == {"name": PROVIDER}
    assert webhook["request"]["body"] == {"pactUrl": "${pactbroker.pactUrl}"}
    assert broker.webhook_executions == [WEBHOOK_UUID]
    assert "${user.ciToken}" not in created.stdout + tested.stdout


def test_wrong_token_is_refused(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document())

    with pytest.raises(RuntimeError):
        verify_from_broker(broker, provider_url, token="wrong")
    cli = pact_cli(broker, *can_i_deploy_args("1"), auth=("--broker-token", "wrong"))

    assert cli.returncode != 0
    assert broker.requests and all(r.headers["authorization"] == "Bearer wrong" for r in broker.requests)
    assert broker.verification_results == []


def test_basic_auth(provider_url: str) -> None:
    with BrokerDouble(token=None, username="user", password="secret") as broker:
        broker.add_pact(pact_document())
        verify_from_broker(broker, provider_url, username="user", password="secret")
        cli = pact_cli(
            broker, *can_i_deploy_args("abc123"), auth=("--broker-username", "user", "--broker-password", "secret")
        )
        refused = pact_cli(broker, *can_i_deploy_args("abc123"), auth=("--broker-token", "test-token"))

    assert [r["success"] for r in broker.verification_results] == [True]
    assert cli.returncode == 0, cli.stdout
    assert refused.returncode != 0


def test_refused_publication_stores_nothing(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document())
    broker.fail("publish", 422)

    verify_from_broker(broker, provider_url)  # pact-python 4.2 does not raise here

    assert [r.method for r in broker.requests if r.path.endswith("/verification-results")] == ["POST"]
    assert broker.verification_results == []


def test_broken_index_fails_verification(broker: BrokerDouble, provider_url: str) -> None:
    broker.add_pact(pact_document())
    broker.fail("index", 404)

    with pytest.raises(RuntimeError):
        verify_from_broker(broker, provider_url)
    assert broker.verification_results == []


def test_verifier_retries_a_5xx_index(broker: BrokerDouble, provider_url: str) -> None:
    # A persistent 5xx makes verify() raise too, but only after ~2 minutes of back-off
    # (1 s, 2 s, 4 s ... 64 s), so this test lets the first retry succeed instead.
    broker.add_pact(pact_document())
    broker.fail("index", 500, times=1)

    verify_from_broker(broker, provider_url)

    assert [r.path for r in broker.requests].count("/") == 2
    assert [r["success"] for r in broker.verification_results] == [True]


def test_faults_count_down_and_delay(broker: BrokerDouble) -> None:
    broker.fail("environments", 503, times=1)
    with http(broker) as client:
        first, second = client.get("/environments"), client.get("/environments")
        broker.fail("environments", 0, delay=0.3)
        started = time.monotonic()
        delayed = client.get("/environments")
        elapsed = time.monotonic() - started
        broker.clear_faults()
        missing = client.get("/no/such/thing")

    assert (first.status_code, second.status_code, delayed.status_code) == (503, 200, 200)
    assert "error" in first.json() and "retry-after" not in first.headers
    assert elapsed >= 0.3
    [production] = second.json()["_embedded"]["environments"]
    assert production["name"] == "production" and production["production"] is True
    assert missing.status_code == 404 and "error" in missing.json()
    with pytest.raises(ValueError, match="unknown route"):
        broker.fail("nonsense", 500)


def test_a_fault_can_ask_for_a_retry_after_some_seconds(broker: BrokerDouble) -> None:
    broker.fail("environments", 429, times=1, retry_after=0)
    with http(broker) as client:
        limited, then = client.get("/environments"), client.get("/environments")

    assert (limited.status_code, limited.headers["retry-after"], then.status_code) == (429, "0", 200)


def test_secrets_are_listed_by_name_only(broker: BrokerDouble) -> None:
    with http(broker) as client:
        created = client.post("/secrets", json={"name": "ciToken", "description": "CI", "value": "s3cr3t"})
        listed = client.get("/secrets").json()
        anonymous = httpx.get(f"{broker.base_url}/secrets")

    assert created.status_code == 201 and "value" not in created.json()
    assert [s["name"] for s in listed["_embedded"]["secrets"]] == ["ciToken"]
    assert "s3cr3t" not in json.dumps(listed)
    assert broker.secrets == [{"name": "ciToken", "description": "CI", "value": "s3cr3t"}]
    assert "s3cr3t" not in repr(broker.requests)
    assert anonymous.status_code == 401 and "error" in anonymous.json()


def test_pact_links_and_result_validation(broker: BrokerDouble) -> None:
    permalink = broker.add_pact(pact_document(), consumer_version="c1")
    with http(broker) as client:
        document = client.get(permalink).json()
        publish = document["_links"]["pb:publish-verification-results"]["href"]
        no_success = client.post(publish, json={"providerApplicationVersion": "v1"})
        no_version = client.post(publish, json={"success": True})
        accepted = client.post(publish, json={"success": True, "providerApplicationVersion": "v1"})
        stored = client.get(accepted.json()["_links"]["self"]["href"])

    assert document["interactions"][0]["_id"]
    assert document["_links"]["pb:provider"]["href"] == f"{broker.base_url}/pacticipants/{PROVIDER}"
    assert (no_success.status_code, list(no_success.json()["errors"])) == (400, ["success"])
    assert (no_version.status_code, list(no_version.json()["errors"])) == (400, ["providerApplicationVersion"])
    assert accepted.status_code == 201 and stored.json()["provider_version"] == "v1"
    assert broker.verification_results[0]["consumer_versions"] == ["c1"]
