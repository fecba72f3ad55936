"""Broker faults, in the main build (in one process, and with two pacts in two workers) and the
webhook build: each ends with a non-zero exit and one readable line, and no result is reported as
published when the broker did not take it.

A fault in fetching the pacts runs in every mode at every budget: each mode fetches its own way. A
fault in publishing takes the verifier's publishing path in every mode, so at the quick budget it
runs in one mode, the modes taken in turn, and in all three at the full budget. The verifier retries
a 5xx or 429 eight times; after a 5xx it backs off for about two minutes in all, so a persistent 500
runs only at the full budget, and a persistent 429 that asks to retry at once (`Retry-After: 0`)
takes the same retries in no time at every budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import (
    PROVIDER,
    TOKEN,
    consumer_pact,
    dead_port,
    environment,
    failed_line,
    failure,
    in_a_process,
    named_products,
    output,
    pipeline,
    project_pact,
)

from .budget import full_budget
from .report import Proof

MODES = ("main", "workers", "webhook")


def modes(quick: str) -> list[pytest.ParameterSet]:
    """Every mode; at the quick budget only `quick`, for a fault the three modes meet on one path."""
    return [pytest.param(mode, marks=() if mode == quick else full_budget) for mode in MODES]


def run_build(broker: BrokerDouble, mode: str, cwd: Path, **extra: str) -> tuple[int, str]:
    """One CI build against the double: the main build, or the webhook build of one pact."""
    url = broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-1", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    if mode == "webhook":
        env["PACT_URL"] = url
    if mode == "workers":  # a second pact large enough for a second worker
        broker.add_pact(
            consumer_pact("large-consumer", *named_products(40, "Large")), consumer_version="l-1", branch="main"
        )
        env["JOBS"] = "2"
    # a verifier that runs out of time goes on in its thread: such a build runs in a process of its own
    done = (
        in_a_process(cwd, env | extra, "-m", "pipeline", "ci")
        if "VERIFY_TIMEOUT" in extra
        else pipeline("ci", cwd, env | extra)
    )
    return done.returncode, output(done)


def pacts_in(mode: str) -> int:
    """How many pacts a build of this mode verifies and publishes."""
    return 2 if mode == "workers" else 1


def refused(text: str) -> str:
    """The build's last word: its one FAILED line."""
    return failed_line(text, "ci")


def assert_not_claimed_published(text: str) -> None:
    assert "results published" not in text
    assert "[deploy] would deploy" not in text


@pytest.mark.parametrize("mode", MODES)
def test_broker_down_before_the_build(proof: Proof, mode: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"  # nothing listens there
    env = environment(
        GIT_COMMIT="prov-1",
        GIT_BRANCH="master",
        PACT_BROKER_BASE_URL=dead,
        PACT_BROKER_TOKEN=TOKEN,
        PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
    )
    if mode == "webhook":
        env["PACT_URL"] = f"{dead}/pacts/provider/{PROVIDER}/consumer/c/version/1"
    if mode == "workers":
        env["JOBS"] = "2"
    done = pipeline("ci", tmp_path, env)
    proof.count("faults")
    assert done.returncode == 1
    line = failure(done)
    assert "verification failed" in line and dead in line
    # every main build asks for the list itself first; the webhook build fetches its one pact
    assert ("could not reach the broker" in line) == (mode != "webhook")


@pytest.mark.parametrize("mode", modes(quick="workers"))
def test_broker_dying_while_publishing(proof: Proof, broker: BrokerDouble, mode: str, tmp_path: Path) -> None:
    broker.fail("pacticipant", 0, delay=30)  # the first step of publishing hangs, and then the broker goes away

    def publishing_everywhere() -> bool:
        """Publishing has begun, and every pact was fetched by its verifier (workers verify at their own pace)."""
        publishing = any(r.path.startswith("/pacticipants/") for r in broker.requests)
        return publishing and len(broker.pacts_fetched_by_verifiers()) >= pacts_in(mode)

    def kill_when_publishing() -> None:
        deadline = time.monotonic() + 60
        while not publishing_everywhere() and time.monotonic() < deadline:
            time.sleep(0.01)
        broker.stop()

    threading.Thread(target=kill_when_publishing, daemon=True).start()
    code, text = run_build(broker, mode, tmp_path)
    proof.count("faults")
    assert code == 1
    assert "the results were NOT published" in refused(text)
    assert_not_claimed_published(text)
    assert broker.verification_results == []


FAULTS: dict[str, tuple[Callable[[BrokerDouble], None], str]] = {
    "401": (lambda broker: setattr(broker, "token", "another-token"), "401"),
    "403": (lambda broker: broker.fail("index", 403), "403"),
    "404 for the pacts": (lambda broker: broker.fail("for_verification", 404), "the broker answered 404"),
    "404 for the pact, fetched first": (lambda broker: broker.fail("pact", 404), "the server answered 404"),
    "malformed pact document, fetched first": (
        lambda broker: broker.fail("pact", 200),
        "is not a pact the verifier can read",
    ),
    "422 on publishing": (
        lambda broker: broker.fail("publish", 422),
        "the results were NOT published: the broker answered 422",
    ),
    "409 on publishing": (
        lambda broker: broker.fail("publish", 409),
        "the results were NOT published: the broker answered 409",
    ),
}
ONLY = {  # the webhook build does not read the index or the pacts for verification; every build checks each pact first
    "403": {"main", "workers"},
    "404 for the pacts": {"main", "workers"},
}
PUBLISHING = {"422 on publishing": "main", "409 on publishing": "webhook"}  # and the one mode each runs in when quick
CASES = [
    pytest.param(fault, mode, marks=() if mode == PUBLISHING.get(fault, mode) else full_budget)
    for fault in FAULTS
    for mode in MODES
    if mode in ONLY.get(fault, MODES)
]


@pytest.mark.parametrize(("fault", "mode"), CASES)
def test_a_broker_fault_fails_the_build_in_one_line(
    proof: Proof, broker: BrokerDouble, fault: str, mode: str, tmp_path: Path
) -> None:
    inject, named = FAULTS[fault]
    inject(broker)
    code, text = run_build(broker, mode, tmp_path)
    proof.count("faults")
    assert code == 1
    line = refused(text)
    assert named in line, line
    if mode == "workers":  # the list was refused, or the workers ran and the line names the pact that failed
        assert "fetching the pacts for verification failed" in line or "in 2 pacts (2 workers)): Pact of" in line, line
    assert_not_claimed_published(text)
    assert not any(result["success"] for result in broker.verification_results)


@pytest.mark.parametrize("mode", modes(quick="main"))
def test_a_result_refused_once_is_published_on_the_next_run(
    proof: Proof, broker: BrokerDouble, mode: str, tmp_path: Path
) -> None:
    broker.fail("publish", 422)
    assert run_build(broker, mode, tmp_path)[0] == 1
    broker.clear_faults()
    code, text = run_build(broker, mode, tmp_path)
    proof.count("runs", 2)
    assert code == 0, text
    assert [(r["provider_version"], r["success"]) for r in broker.verification_results] == [
        ("prov-1", True)
    ] * pacts_in(mode)


@pytest.mark.parametrize("mode", modes(quick="main"))
def test_a_500_on_publishing_is_retried_by_the_verifier(
    proof: Proof, broker: BrokerDouble, mode: str, tmp_path: Path
) -> None:
    broker.fail("publish", 500, times=1)
    code, text = run_build(broker, mode, tmp_path)
    proof.count("faults")
    assert code == 0, text
    assert len(broker.verification_results) == pacts_in(mode)


def assert_refused_after_the_verifiers_retries(proof: Proof, broker: BrokerDouble, tmp_path: Path, status: int) -> None:
    code, text = run_build(broker, "webhook", tmp_path)
    attempts = sum(request.path.endswith("/verification-results") for request in broker.requests)
    proof.count("faults")
    proof.count("attempts to publish", attempts)
    assert code == 1
    assert f"the results were NOT published: the broker answered {status}" in refused(text)
    assert attempts > 1  # the verifier did retry before it gave up
    assert broker.verification_results == []


@full_budget
def test_a_persistent_500_on_publishing_fails_after_the_verifiers_retries(
    proof: Proof, broker: BrokerDouble, tmp_path: Path
) -> None:
    broker.fail("publish", 500)
    assert_refused_after_the_verifiers_retries(proof, broker, tmp_path, 500)


def test_a_persistent_429_on_publishing_fails_after_the_verifiers_retries(
    proof: Proof, broker: BrokerDouble, tmp_path: Path
) -> None:
    broker.fail("publish", 429, retry_after=0)
    assert_refused_after_the_verifiers_retries(proof, broker, tmp_path, 429)


@pytest.mark.parametrize("mode", modes(quick="webhook"))
def test_a_slow_broker_is_bounded_by_the_verification_timeout(
    proof: Proof, broker: BrokerDouble, mode: str, tmp_path: Path
) -> None:
    broker.fail("publish", 0, delay=60)
    code, text = run_build(broker, mode, tmp_path, VERIFY_TIMEOUT="1")
    proof.count("faults")
    assert code == 1
    assert "did not finish within VERIFY_TIMEOUT (1 s)" in refused(text)
    assert_not_claimed_published(text)
