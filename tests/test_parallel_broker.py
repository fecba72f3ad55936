"""Verifying the broker's pacts in worker processes (`make verify JOBS=2`): the same results and
publications as a one-process run, pending and WIP pacts kept pending, states kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import ROOT, consumer_pact, environment, named_products, output, project_pact, verify

WEB = "pactflow-example-consumer"


def published(broker: BrokerDouble, run: slice = slice(None)) -> list[tuple[object, ...]]:
    """The results one run published, in a form that compares across runs."""
    return sorted(
        (
            result["consumer"],
            result["pact_url"],
            result["provider_version"],
            result["branch"],
            result["success"],
            tuple(sorted((test["interactionId"], test["success"]) for test in result["testResults"])),
        )
        for result in broker.verification_results[run]
    )


def test_workers_publish_exactly_what_one_process_publishes(broker: BrokerDouble, tmp_path: Path) -> None:
    broker.add_pact(project_pact(WEB), consumer_version="web-1", branch="main")
    broker.add_pact(
        project_pact("pactflow-example-consumer-python"), consumer_version="py-1", branch="x", deployed=True
    )
    broker.add_pact(project_pact("example-provider-states"), consumer_version="st-1", branch="master")
    # the same ids with other names in two pacts: a state that leaked from one worker's store would fail the other
    # (40 interactions each: enough for two workers, at one per INTERACTIONS_PER_WORKER = 30)
    broker.add_pact(consumer_pact("twin-a", *named_products(40, "From A")), consumer_version="a-1", branch="main")
    broker.add_pact(consumer_pact("twin-b", *named_products(40, "From B")), consumer_version="b-1", branch="main")
    broker.add_pact(
        consumer_pact("new-consumer", ("7", "Seven"), status=201), consumer_version="n-1", branch="main", pending=True
    )
    broker.add_pact(
        consumer_pact("wip-consumer", ("8", "Eight"), status=418), consumer_version="w-1", branch="feat/w", wip=True
    )
    env = environment(broker, GIT_COMMIT="prov-1", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")

    serial = verify(tmp_path, env)
    assert serial.returncode == 0, output(serial)
    after_serial = len(broker.verification_results)
    parallel = verify(tmp_path, env | {"JOBS": "2"})
    text = output(parallel)
    assert parallel.returncode == 0, text

    # each run asks for the list once, then verifies the listed pact URLs: one process as the workers do
    assert len(broker.for_verification_requests) == 2
    assert broker.for_verification_requests[0] == broker.for_verification_requests[1]
    by_workers = published(broker, slice(after_serial, None))
    assert by_workers == published(broker, slice(after_serial))
    assert len({row[1] for row in by_workers}) == len(by_workers) == 7  # each pact published once
    failed = {row[0] for row in by_workers if row[4] is False}
    assert failed == {"new-consumer", "wip-consumer"}  # published as failed, yet the build passed
    assert "verification passed: 92 passed, 2 failed in 7 pacts (2 workers); results published" in text
    assert text.count("\n===== ") == 7 and "===== WIP pact of wip-consumer w-1 =====" in text
    assert text.count("failed (pending, not counted)") == 2 == output(serial).count("failed (pending, not counted)")
    assert "This pact is in pending state" in text


def test_a_failing_pact_fails_the_run_and_every_pact_is_still_published_once(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    broker.add_pact(consumer_pact("fine-consumer", *named_products(40, "Fine")), consumer_version="f-1", branch="main")
    broker.add_pact(
        consumer_pact("broken-consumer", *named_products(40, "Fine"), status=201), consumer_version="b-1", branch="main"
    )
    env = environment(broker, GIT_COMMIT="prov-2", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    done = verify(tmp_path, env | {"JOBS": "2"})
    text = output(done)
    assert done.returncode != 0
    assert (
        "verification FAILED (40 passed, 40 failed in 2 pacts (2 workers)): "
        "Pact of broken-consumer b-1: 40 interaction(s) failed" in text
    )
    assert sorted((row[0], row[4]) for row in published(broker)) == [
        ("broken-consumer", False),
        ("fine-consumer", True),
    ]


def test_small_pacts_from_the_broker_stay_in_one_process(broker: BrokerDouble, tmp_path: Path) -> None:
    for consumer in (WEB, "pactflow-example-consumer-python", "example-provider-states"):
        broker.add_pact(project_pact(consumer), consumer_version="1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-5", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    done = verify(tmp_path, env | {"JOBS": "2"})
    text = output(done)
    assert done.returncode == 0, text
    assert "verification passed: 12 passed, 0 failed; results published" in text and "workers)" not in text
    assert len(broker.verification_results) == 3


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("down", "verify: could not reach the broker at"),
        ("401", "verify: fetching the pacts for verification failed: the broker answered 401 to /"),
        ("500", "verify: fetching the pacts for verification failed: the broker answered 500 to /pacts/provider/"),
    ],
)
def test_the_list_that_cannot_be_fetched_is_one_line(
    broker: BrokerDouble, tmp_path: Path, fault: str, message: str
) -> None:
    broker.add_pact(project_pact(WEB), consumer_version="web-1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-3", GIT_BRANCH="master", PACT_BROKER_HTTP_RETRIES="0")
    if fault == "down":
        broker.stop()
    elif fault == "401":
        env["PACT_BROKER_TOKEN"] = "not-the-token"
    else:
        broker.fail("for_verification", 500)
    done = verify(tmp_path, env, "--jobs", "2")
    assert done.returncode == 2
    assert output(done).strip().splitlines() == [
        next(line for line in output(done).splitlines() if line.startswith(message))
    ]


def test_a_pact_folder_on_the_command_line_wins_over_the_broker(broker: BrokerDouble, tmp_path: Path) -> None:
    broker.add_pact(consumer_pact("broken-consumer", ("10", "Ten"), status=201), consumer_version="b-1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-4", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    done = verify(tmp_path, env, "--pact-dir", str(ROOT / "pacts"))
    text = output(done)
    assert done.returncode == 0, text
    assert "verification passed: 12 passed, 0 failed" in text
    assert "results are not published: local pact files have no broker to publish to" in text
    assert broker.for_verification_requests == [] and broker.verification_results == []
