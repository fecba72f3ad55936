"""Broker faults on publishing the provider contract: each ends with a non-zero exit and one readable
line, the contract is never reported as published when the broker did not take it, and the CLI's
retries of a 5xx are bounded by PACT_BROKER_HTTP_RETRIES."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, TOKEN, dead_port, environment, failed_line, output, pipeline, project_pact

from .report import Proof

CONTRACT_PATH = f"/provider-contracts/provider/{PROVIDER}/publish"
ATTEMPTS = "2"  # PACT_BROKER_HTTP_RETRIES: how many times the CLI sends a request that gets a 5xx


def publish(broker_url: str, cwd: Path, step: str = "publish-provider-contract") -> tuple[int, str]:
    """The step on its own (or the main build), against the broker at `broker_url`."""
    env = environment(
        PACT_BROKER_BASE_URL=broker_url,
        PACT_BROKER_TOKEN=TOKEN,
        GIT_COMMIT="prov-1",
        GIT_BRANCH="master",
        PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
        PACT_BROKER_HTTP_RETRIES=ATTEMPTS,
        PACT_PUBLISH_PROVIDER_CONTRACT="true",
    )
    done = pipeline(step, cwd, env)
    return done.returncode, output(done)


def assert_refused(code: int, text: str, step: str, named: str) -> None:
    assert code == 1
    line = failed_line(text, step)
    assert line.startswith(f"[{step}] FAILED: the provider contract was NOT published: "), line
    assert named in line, line
    assert "[provider-contract] published" not in text


FAULTS: dict[str, tuple[Callable[[BrokerDouble], None], str]] = {
    "401": (lambda broker: setattr(broker, "token", "another-token"), "401 Unauthorized"),
    "403": (lambda broker: broker.fail("provider_contract", 403), "403 Forbidden"),
    "422": (lambda broker: broker.fail("provider_contract", 422), "422 Unprocessable Entity"),
    "500": (lambda broker: broker.fail("provider_contract", 500), "500 Internal Server Error"),
    "an answer the CLI does not accept": (
        lambda broker: broker.fail("provider_contract", 200),
        "missing field `_embedded`",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_broker_fault_on_publishing_fails_in_one_line(
    proof: Proof, broker: BrokerDouble, fault: str, tmp_path: Path
) -> None:
    inject, named = FAULTS[fault]
    inject(broker)
    code, text = publish(broker.base_url, tmp_path)
    proof.count("faults")
    assert_refused(code, text, "publish-provider-contract", named)
    assert broker.provider_contracts == []
    if fault == "500":  # retried, and no more than it was told
        assert sum(1 for r in broker.requests if r.path == CONTRACT_PATH) == int(ATTEMPTS)


def test_the_broker_down_fails_in_one_line(proof: Proof, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"  # nothing listens there
    code, text = publish(dead, tmp_path)
    proof.count("faults")
    assert_refused(code, text, "publish-provider-contract", dead)


def test_a_500_once_is_retried_and_published(proof: Proof, broker: BrokerDouble, tmp_path: Path) -> None:
    broker.fail("provider_contract", 500, times=1)
    code, text = publish(broker.base_url, tmp_path)
    proof.count("faults")
    assert code == 0, text
    assert len(broker.provider_contracts) == 1
    assert sum(1 for r in broker.requests if r.path == CONTRACT_PATH) == 2


def test_a_fault_on_publishing_the_contract_fails_the_main_build_before_can_i_deploy(
    proof: Proof, broker: BrokerDouble, tmp_path: Path
) -> None:
    broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
    broker.fail("provider_contract", 422)
    code, text = publish(broker.base_url, tmp_path, step="ci")
    proof.count("faults")
    assert_refused(code, text, "ci", "422 Unprocessable Entity")
    assert "(its self-verification passed)" in failed_line(text, "ci")
    assert [result["success"] for result in broker.verification_results] == [True]
    assert broker.provider_contracts == [] and not any(r.path == "/matrix" for r in broker.requests)
    assert "[deploy] would deploy" not in text and broker.deployments == []
