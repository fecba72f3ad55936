"""Long runs: SIGTERM (a cancelled CI job) stops a run as Ctrl-C does, at every JOBS and in both entry points,
and leaves no process, no temporary folder and no published result; a long verification says it is alive
(the interval, `pipeline.verifier.PROGRESS_EVERY`, lowered here); a timeout names what ran out of time."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from pipeline import verifier
from pipeline.verify import main
from tests.support.broker import BrokerDouble
from tests.support.runs import environment, in_a_process, output, verify
from tests.test_verify import PACTS, many

from .budget import full_budget
from .report import Proof

PROGRESS = re.compile(r"^  still verifying (?P<label>\S+): (?P<done>\d+) of (?P<total>\d+) interactions$")
CLOSING = {"verify": "verify: terminated; the provider was shut down", "ci": "[ci] terminated"}


def started(run: subprocess.Popen[str], broker: BrokerDouble, jobs: int) -> None:
    """Wait until the run verifies: a verifier fetched a pact for each of its `jobs` workers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        if len(broker.pacts_fetched_by_verifiers()) >= jobs:
            time.sleep(0.2)  # into the verification, far from its end: each pact has thousands of interactions
            return
        time.sleep(0.05)


def group_gone(group: int) -> bool:
    """Whether every process of the group has exited, within a generous bound."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


# At the quick budget each entry point at one JOBS, and each JOBS once; all four at the full budget.
@pytest.mark.parametrize(
    ("entry", "jobs"),
    [("verify", 1), ("ci", 2), pytest.param("verify", 2, marks=full_budget), pytest.param("ci", 1, marks=full_budget)],
)
def test_sigterm_stops_the_run_as_ctrl_c_does(
    proof: Proof, broker: BrokerDouble, tmp_path: Path, entry: str, jobs: int
) -> None:
    for consumer in ("consumer-a", "consumer-b"):
        broker.add_pact(many(consumer, 2000, "Slow"), consumer_version=f"{consumer}-1")
    temporary, out = tmp_path / "tmp", tmp_path / "out.txt"
    temporary.mkdir()
    env = environment(broker, GIT_COMMIT="prov-1", GIT_BRANCH="master", JOBS=str(jobs), TMPDIR=str(temporary))
    env["PACT_BROKER_PUBLISH_VERIFICATION_RESULTS"] = "true"
    command = [sys.executable, "-m", *(["pipeline.verify"] if entry == "verify" else ["pipeline", "ci"])]
    with out.open("w") as stdout:
        run = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
    try:
        started(run, broker, jobs)
        published_before = list(broker.verification_results)
        run.send_signal(signal.SIGTERM)  # to the parent only: it stops its workers itself
        _, err = run.communicate(timeout=30)
        gone = group_gone(run.pid)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # whatever is left: the test fails, and leaves nothing running
    proof.count("signals")
    assert published_before == [], "the run was signalled too late: it had published a result already"
    assert run.returncode == 143, err
    assert err.strip().splitlines()[-1] == CLOSING[entry] and err.count("terminated") == 1
    assert "Traceback" not in err + out.read_text()
    assert gone  # no worker, verifier or server process left
    assert list(temporary.iterdir()) == []
    assert broker.verification_results == []
    assert not any(request.path.endswith("/verification-results") for request in broker.requests)


def progress(text: str) -> list[tuple[str, int, int]]:
    return [
        (found["label"], int(found["done"]), int(found["total"]))
        for found in map(PROGRESS.match, text.splitlines())
        if found
    ]


def test_a_long_verification_says_how_far_it_is(
    proof: Proof, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "long.json").write_text(json.dumps(many("long", 150, "Long")))
    monkeypatch.setattr(verifier, "PROGRESS_EVERY", 0.02)
    assert main(["--pact-dir", str(tmp_path), "--jobs", "1"]) == 0
    found = progress(capfd.readouterr().out)
    proof.count("progress lines", len(found))
    assert found and {(label, total) for label, _, total in found} == {("long.json", 150)}
    done = [count for _, count, _ in found]
    assert done == sorted(done) and done[-1] <= 150


def test_a_short_run_prints_no_progress_line(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--pact-dir", str(PACTS), "--jobs", "1"]) == 0  # far shorter than PROGRESS_EVERY
    assert "still verifying" not in capfd.readouterr().out


def test_workers_show_their_progress_while_they_run(proof: Proof, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps(many(name, 60, "Long")))
    # the workers are forked from this process after it lowered the interval, so they have it too
    script = "import sys, pipeline.verifier as v, pipeline.verify as r; v.PROGRESS_EVERY = 0.02; sys.exit(r.main())"
    done = in_a_process(tmp_path, environment(), "-c", script, "--pact-dir", str(tmp_path), "--jobs", "2")
    text = output(done)
    assert done.returncode == 0, text
    found = progress(done.stdout)
    proof.count("progress lines", len(found))
    lines = done.stdout.splitlines()
    for name in ("a.json", "b.json"):  # said while the pact ran, before its output is shown when it is done
        first = next(index for index, line in enumerate(lines) if PROGRESS.match(line) and name in line)
        assert first < lines.index(f"===== {name} =====")


def test_a_local_pact_that_runs_out_of_time_is_named_not_the_broker(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text(json.dumps(many("big", 1000, "Big")))
    env = environment(VERIFY_TIMEOUT="1")
    done = in_a_process(tmp_path, env, "-m", "pipeline.verify", "--pact-dir", str(tmp_path), "--jobs", "1")
    text = output(done)
    assert done.returncode == 1
    assert "verification FAILED (0 passed, 0 failed): the verification of big.json did not finish within " in text
    assert "broker" not in text


def test_a_pact_server_that_runs_out_of_time_is_not_called_the_broker(tmp_path: Path) -> None:
    with BrokerDouble(token=None) as server:  # a server with pacts, not the build's broker
        url = server.add_pact(many("slow", 1, "Slow"))
        server.hostile("pact", "trickle")
        done = verify(tmp_path, environment(PACT_URL=url, VERIFY_TIMEOUT="2"))
    text = output(done)
    assert done.returncode == 2
    assert f"could not fetch the pact {url}: the server did not answer within VERIFY_TIMEOUT (2 s)" in text
    assert "broker" not in text
