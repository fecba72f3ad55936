"""Bi-directional contract testing: the OpenAPI document published as the provider contract, with
its schemathesis self-verification, by the real `pact` CLI to the broker double."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from example_provider.app import JSONResponse, create_app
from pipeline import PipelineError
from pipeline.build import ci
from pipeline.self_verification import SelfVerificationError, self_verify
from pipeline.settings import Settings, SettingsError
from tests.support.broker import BrokerDouble
from tests.support.runs import (
    PASSWORD,
    PROVIDER,
    ROOT,
    TOKEN,
    environment,
    failure,
    output,
    pipeline,
    project_pact,
)

OPENAPI = ROOT / "example_provider" / "openapi.yaml"
CONTRACT_PATH = f"/provider-contracts/provider/{PROVIDER}/publish"
BUILD_URL = "https://ci.example/builds/7"


@pytest.fixture
def broker() -> Iterator[BrokerDouble]:
    with BrokerDouble(token=TOKEN) as double:
        double.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
        yield double


def main_build(broker: BrokerDouble, **extra: str) -> dict[str, str]:
    """The environment of a main build on master that publishes."""
    return (
        environment(
            broker,
            GIT_COMMIT="prov-1",
            GIT_BRANCH="master",
            PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
            TRAVIS_BUILD_WEB_URL=BUILD_URL,
            PACT_PUBLISH_PROVIDER_CONTRACT="true",
        )
        | extra
    )


def undocumented_listing() -> Starlette:
    """The service, except that GET /products answers a field openapi.yaml does not describe."""

    async def products(request: Request) -> JSONResponse:
        return JSONResponse([{"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees", "price": 100}])

    app = create_app()
    app.router.routes.insert(0, Route("/products", products, methods=["GET"]))  # found before the service's own
    return app


def test_the_main_build_publishes_the_contract_after_the_results_and_before_can_i_deploy(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    done = pipeline("ci", tmp_path, main_build(broker))
    text = output(done)
    assert done.returncode == 0, text
    (contract,) = broker.provider_contracts
    assert contract["content"] == OPENAPI.read_bytes()
    assert (contract["contentType"], contract["specification"]) == ("application/yaml", "oas")
    assert (contract["provider"], contract["version"], contract["branch"], contract["buildUrl"]) == (
        PROVIDER,
        "prov-1",
        "master",
        BUILD_URL,
    )
    results = contract["selfVerificationResults"]
    assert (results["success"], results["verifier"], results["verifierVersion"]) == (
        True,
        "schemathesis",
        version("schemathesis"),
    )
    assert (results["contentType"], results["format"]) == ("application/xml", "junit")
    report = ElementTree.fromstring(results["content"])
    operations = {case.get("name") for case in report.iter("testcase")}
    assert report.get("failures") == "0" and report.get("errors") == "0"
    assert {
        "GET /products",
        "GET /product/{id}",
        "GET /products/{id}",
        "GET /openapi.json",
        "HEAD /products",
    } <= operations
    order = [(r.method, r.path) for r in broker.requests]
    published = order.index(("POST", CONTRACT_PATH))
    assert max(i for i, (method, path) in enumerate(order) if path.endswith("/verification-results")) < published
    assert published < order.index(("GET", "/matrix"))
    assert (
        f"[provider-contract] published openapi.yaml as {PROVIDER} prov-1 with its self-verification (passed;" in text
    )
    assert "[can-i-deploy] pactflow-example-provider-python prov-1 to production: yes." in text


@pytest.mark.parametrize(
    ("build", "said"),
    [
        ("webhook", "[provider-contract] not published in a webhook build: a pact changed, not the provider"),
        ("offline", "[provider-contract] skipped: no broker is configured (PACT_BROKER_BASE_URL is not set)"),
        (
            "not publishing",
            "[provider-contract] skipped: not publishing (PACT_BROKER_PUBLISH_VERIFICATION_RESULTS is not true)",
        ),
        (
            "no provider contracts",
            "[provider-contract] skipped: PACT_PUBLISH_PROVIDER_CONTRACT is not true (a broker without",
        ),
    ],
)
def test_builds_that_publish_no_contract_say_why(broker: BrokerDouble, tmp_path: Path, build: str, said: str) -> None:
    env = {
        "webhook": main_build(
            broker, PACT_URL=broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-2")
        ),
        "offline": environment(GIT_COMMIT="local", GIT_BRANCH="master", PACT_PUBLISH_PROVIDER_CONTRACT="true"),
        "not publishing": environment(
            broker, GIT_COMMIT="prov-2", GIT_BRANCH="master", PACT_PUBLISH_PROVIDER_CONTRACT="true"
        ),
        "no provider contracts": main_build(broker, PACT_PUBLISH_PROVIDER_CONTRACT="false"),
    }[build]
    done = pipeline("ci", tmp_path, env)
    text = output(done)
    assert said in text
    assert broker.provider_contracts == [] and not any(r.path == CONTRACT_PATH for r in broker.requests)
    assert not (tmp_path / ".provider-contract").exists()  # the self-verification did not run either


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "needs a broker: set PACT_BROKER_BASE_URL and a token"),
        (
            {"PACT_BROKER_BASE_URL": "http://127.0.0.1:9", "PACT_BROKER_TOKEN": TOKEN},
            "needs a provider version: set GIT_COMMIT",
        ),
    ],
    ids=["no broker", "no version"],
)
def test_the_target_on_its_own_refuses_without_a_broker_or_a_version(
    tmp_path: Path, env: dict[str, str], line: str
) -> None:
    done = pipeline("publish-provider-contract", tmp_path, environment(None, **env))
    assert done.returncode != 0
    assert failure(done) == f"[publish-provider-contract] FAILED: publish-provider-contract {line}"
    assert not (tmp_path / ".provider-contract").exists()


def test_the_target_publishes_on_its_own(broker: BrokerDouble, tmp_path: Path) -> None:
    done = pipeline(
        "publish-provider-contract", tmp_path, environment(broker, GIT_COMMIT="prov-3", GIT_BRANCH="feat/x")
    )
    assert done.returncode == 0, output(done)
    (contract,) = broker.provider_contracts
    assert (contract["version"], contract["branch"], contract["buildUrl"]) == ("prov-3", "feat/x", None)
    assert contract["selfVerificationResults"]["success"] is True
    assert (tmp_path / ".provider-contract" / "schemathesis-junit.xml").read_bytes() == contract[
        "selfVerificationResults"
    ]["content"]


def test_a_service_that_breaks_its_document_is_published_as_failed_and_fails_the_build(
    broker: BrokerDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in main_build(broker).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(PipelineError) as failed:
        ci(Settings.from_env(), contract_app=undocumented_listing())
    line = str(failed.value)
    assert "\n" not in line
    assert line.startswith(
        "the service does not keep its OpenAPI document: response_schema_conformance on GET /products: ST108"
    )
    (contract,) = broker.provider_contracts
    results = contract["selfVerificationResults"]
    assert results["success"] is False
    (failed_case,) = [
        case for case in ElementTree.fromstring(results["content"]).iter("testcase") if case.find("failure") is not None
    ]
    failure_element = failed_case.find("failure")
    assert failed_case.get("name") == "GET /products" and failure_element is not None
    assert failure_element.get("type") == "response_schema_conformance"
    assert "ST108 Response violates schema" in str(failure_element.text) and "'price' was unexpected" in str(
        failure_element.text
    )
    assert len(broker.verification_results) == 1  # the pacts were verified and published first
    assert not any(r.path == "/matrix" for r in broker.requests) and broker.deployments == []
    printed = capsys.readouterr()
    assert "self-verification (failed: response_schema_conformance on GET /products" in printed.out
    assert TOKEN not in printed.out + printed.err


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contract": {"content": "b3BlbmFwaQ=="}}, "pacticipantVersionNumber"),
        ({"pacticipantVersionNumber": "1", "contract": {"content": "not base64!"}}, "contract"),
        (
            {"pacticipantVersionNumber": "1", "contract": {"content": "", "selfVerificationResults": {"content": ""}}},
            "selfVerificationResults",
        ),
    ],
)
def test_the_double_refuses_a_contract_it_cannot_read(
    broker: BrokerDouble, body: dict[str, object], field: str
) -> None:
    answer = httpx.post(broker.base_url + CONTRACT_PATH, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and field in answer.json()["errors"]
    assert broker.provider_contracts == []


def test_no_credential_shows_in_the_output_or_the_report(tmp_path: Path) -> None:
    wrong = "sentinel-wrong-password-41d9"
    (tmp_path / ".env").write_text(f"PACT_BROKER_USERNAME=ci\nPACT_BROKER_PASSWORD={PASSWORD}\nGIT_COMMIT=prov-8\n")
    with BrokerDouble(token=None, username="ci", password=PASSWORD) as double:
        published = pipeline("publish-provider-contract", tmp_path, environment(PACT_BROKER_BASE_URL=double.base_url))
        refused = pipeline(
            "publish-provider-contract",
            tmp_path,
            environment(PACT_BROKER_BASE_URL=double.base_url, PACT_BROKER_PASSWORD=wrong),
        )
        assert published.returncode == 0, output(published)
        assert refused.returncode != 0 and "401 Unauthorized" in failure(refused)
        assert len(double.provider_contracts) == 1
        for text in (
            output(published),
            output(refused),
            *(path.read_text() for path in (tmp_path / ".provider-contract").iterdir()),
        ):
            assert PASSWORD not in text and wrong not in text


def test_a_document_that_cannot_be_tested_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text(OPENAPI.read_text().replace("openapi: 3.0.3", "openapi: 9.9.9"))
    with pytest.raises(SelfVerificationError, match=r"^openapi.yaml cannot be tested: \w+: .+") as refused:
        self_verify(report=tmp_path / "report.xml", contract=broken)
    assert "\n" not in str(refused.value) and not (tmp_path / "report.xml").exists()


def test_the_generated_requests_per_operation_are_a_setting(tmp_path: Path) -> None:
    """PACT_PROVIDER_CONTRACT_EXAMPLES bounds the generated requests, and the report says how many."""
    default = self_verify(report=tmp_path / "default.xml")
    fewer = self_verify(report=tmp_path / "fewer.xml", examples=1)
    assert default.success and fewer.success
    sent = [sum(run.statuses.total() for run in outcome.operations) for outcome in (default, fewer)]
    assert sent[1] < sent[0]
    assert all(run.statuses.total() >= 1 for run in fewer.operations)

    def examples(report: Path) -> str | None:
        found = [p for p in ElementTree.parse(report).iter("property") if p.get("name") == "examples per operation"]
        return found[0].get("value")

    assert (examples(default.report), examples(fewer.report)) == ("20, derandomized", "1, derandomized")
    assert Settings.from_env({"PACT_PROVIDER_CONTRACT_EXAMPLES": "5"}).provider_contract_examples == 5
    with pytest.raises(SettingsError, match="PACT_PROVIDER_CONTRACT_EXAMPLES"):
        Settings.from_env({"PACT_PROVIDER_CONTRACT_EXAMPLES": "0"})
