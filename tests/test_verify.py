from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from junitparser import JUnitXml

from pipeline.pacts import Pact
from pipeline.verify import main
from pipeline.workers import start_method, worker_count
from tests.support.runs import environment

PACTS = Path(__file__).resolve().parent.parent / "pacts"


def pact(*interactions: dict[str, object], consumer: str = "test-consumer") -> dict[str, object]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": "pactflow-example-provider-python"},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def interaction(
    description: str, path: str, status: int, body: object = None, states: Sequence[str] = ()
) -> dict[str, object]:
    response: dict[str, object] = {"status": status}
    if body is not None:
        response["body"] = body
    return {
        "description": description,
        "providerStates": [{"name": name} for name in states],
        "request": {"method": "GET", "path": path},
        "response": response,
    }


def write(folder: Path, name: str, document: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_every_pact_in_pacts_passes(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--pact-dir", str(PACTS)]) == 0
    out = capfd.readouterr().out
    assert "FAILED" not in out
    assert "verification passed: 12 passed, 0 failed" in out
    assert "pactflow-example-consumer: a request to get all products given products exist" in out


def test_an_unsatisfied_pact_fails_with_the_mismatch(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    wrong = interaction(
        "a product with the wrong name",
        "/product/10",
        200,
        {"id": "10", "type": "CREDIT_CARD", "name": "Wrong"},
        ["a product with ID 10 exists"],
    )
    right = interaction("a missing product", "/product/404", 404)
    path = write(tmp_path, "wrong.json", pact(wrong, right))
    assert main(["--pact-url", str(path)]) == 1
    out = capfd.readouterr().out
    assert "FAILED  test-consumer: a product with the wrong name" in out
    assert "to be equal to 'Wrong'" in out
    assert "verification FAILED (1 passed, 1 failed): 1 interaction(s) failed" in out


def test_an_unknown_state_fails_naming_the_known_states(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "unknown.json", pact(interaction("a gadget", "/products", 200, [], ["a gadget exists"])))
    assert main(["--pact-url", str(path)]) == 1
    out = capfd.readouterr().out
    assert "unknown provider state 'a gadget exists'" in out
    assert "known states: a product with ID {id} exists" in out


BROKEN_STATE = """
import sys

from pipeline import verify
from states import registry


@registry.state("a product with ID {id} is broken")
def product_is_broken(store, values):
    return {"id": values["x"]}


sys.exit(verify.main(sys.argv[1:]))
"""


def test_a_state_that_raises_fails_its_interaction_at_once_saying_why(tmp_path: Path) -> None:
    """The verifier retries a state change that answers 5xx for two minutes: a broken state must not."""
    script = write(tmp_path, "broken_state.py", BROKEN_STATE)
    broken = interaction("a broken one", "/product/10", 200, None, ["a product with ID 10 is broken"])
    fine = interaction("a fine one", "/product/10", 200, None, ["a product with ID 10 exists"])
    path = write(tmp_path, "broken.json", pact(broken, fine))
    command = [sys.executable, str(script), "--pact-url", str(path)]
    done = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    text = done.stdout + done.stderr
    assert text.count("Traceback") == 1 and 'return {"id": values["x"]}' in text
    failed = "provider state 'a product with ID 10 is broken' failed: KeyError: 'x'"
    summary = done.stdout[done.stdout.index("Summary:") :].splitlines()
    assert summary[1:4] == [
        "  FAILED  test-consumer: a broken one given a product with ID 10 is broken",
        f"          {failed}",
        "  passed  test-consumer: a fine one given a product with ID 10 exists",
    ]
    assert summary[-1] == "verification FAILED (1 passed, 1 failed): 1 interaction(s) failed"


def test_state_changes_do_not_leak_between_interactions(tmp_path: Path) -> None:
    emptied = interaction("after emptying", "/products", 200, [], ["no products exist"])
    baseline = interaction("with no state", "/product/09", 200, {"id": "09", "type": "CREDIT_CARD", "name": "Gem Visa"})
    removed = interaction("after removing", "/product/09", 404, None, ["a product with ID 09 does not exist"])
    path = write(tmp_path, "leak.json", pact(emptied, removed, baseline))
    assert main(["--pact-url", str(path)]) == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "pact file not found"),
        ("{not json", "is not valid JSON"),
        ('{"consumer": {}}', "is not a pact the verifier can read"),
    ],
)
def test_a_missing_or_broken_pact_file_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], content: str | None, problem: str
) -> None:
    path = tmp_path / "broken.json"
    if content is not None:
        path.write_text(content)
    assert main(["--pact-url", str(path)]) == 2
    captured = capfd.readouterr()
    assert problem in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.out + captured.err


def test_an_empty_pact_folder_is_an_error(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--pact-dir", str(tmp_path)]) == 2
    assert "no pact files" in capfd.readouterr().err


@pytest.fixture
def pact_server(tmp_path: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_pact_url_over_http(tmp_path: Path, pact_server: str, capfd: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "remote.json", pact(interaction("all products", "/products", 200, None, ["products exist"])))
    assert main(["--pact-url", f"{pact_server}/remote.json"]) == 0
    assert main(["--pact-url", f"{pact_server}/absent.json"]) == 2
    assert "could not fetch the pact http://127.0.0.1:" in capfd.readouterr().err


def many(consumer: str, count: int, name: str, state: str = "a product with ID {i} exists") -> dict[str, object]:
    """A pact of `count` interactions, each setting up its own product named `name`."""
    interactions: list[dict[str, object]] = [
        {
            "description": f"product {i}",
            "providerStates": [{"name": state.format(i=i), "params": {"name": name}}],
            "request": {"method": "GET", "path": f"/product/{i}"},
            "response": {"status": 200, "body": {"id": str(i), "type": "CREDIT_CARD", "name": name}},
        }
        for i in range(100, 100 + count)
    ]
    return pact(*interactions, consumer=consumer)


def test_parallel_verification_matches_the_serial_run(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # the same ids in both pacts with different names: a state leaking between pacts would fail them
    write(tmp_path, "a.json", many("consumer-a", 40, "From A"))
    write(tmp_path, "b.json", many("consumer-b", 40, "From B"))
    assert main(["--pact-dir", str(tmp_path), "--jobs", "1"]) == 0
    serial = capfd.readouterr().out
    assert start_method().get_start_method() == "spawn"  # this process has verified: fresh interpreters, not forks
    assert main(["--pact-dir", str(tmp_path), "--jobs", "2"]) == 0
    parallel = capfd.readouterr().out
    assert "verification passed: 80 passed, 0 failed" in serial
    assert "verification passed: 80 passed, 0 failed in 2 pacts (2 workers)" in parallel
    assert (
        parallel.index("===== a.json =====")
        < parallel.index("consumer-a: product 100")
        < parallel.index("===== b.json =====")
    )


def verify_command(folder: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "pipeline.verify", "--pact-dir", str(folder), "--jobs", str(jobs)]


def test_a_failing_pact_fails_the_parallel_run(tmp_path: Path) -> None:
    """A subprocess, as `make verify` runs it: a fresh process forks its workers, where this test's process,
    which has verified, would spawn them."""
    write(tmp_path, "good.json", many("good", 40, "Fine"))
    broken = many("broken", 40, "Fine")
    broken["interactions"][5]["response"]["status"] = 201  # type: ignore[index]
    write(tmp_path, "broken.json", broken)
    report = tmp_path / "report.xml"
    env = environment(PACT_VERIFICATION_REPORT=str(report))
    done = subprocess.run(verify_command(tmp_path, 2), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    merged = JUnitXml.fromfile(str(report))  # one report from both workers, in the summary's order
    assert [(suite.name, suite.tests, suite.failures) for suite in merged] == [
        ("broken.json", 40, 1),
        ("good.json", 40, 0),
    ]
    assert (merged.tests, merged.failures, merged.errors, merged.skipped) == (80, 1, 0, 0)
    assert done.stdout.splitlines()[-1] == (
        "verification FAILED (79 passed, 1 failed in 2 pacts (2 workers)): broken.json: 1 interaction(s) failed"
    )
    assert "expected 201 but was 200" in done.stdout
    assert (
        done.stdout.index("===== broken.json =====")
        < done.stdout.index("expected 201")
        < done.stdout.index("===== good.json")
    )
    assert done.stderr == ""


def test_workers_are_forked_only_from_a_process_that_runs_no_other_thread() -> None:
    """A fresh interpreter in a subprocess: this test's process runs other threads."""
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pipeline.verify, pipeline.workers as p; print(p.start_method().get_start_method())",
        ],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert fresh.stdout.strip() == "fork"  # what `make verify` does: its workers start with everything imported
    assert main(["--pact-url", str(PACTS / "pactflow-example-consumer-pactflow-example-provider-python.json")]) == 0
    # the verifier's runtime threads outlive the run: a copy of this process could inherit a held lock
    assert start_method().get_start_method() == "spawn"


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "parent-only"])
def test_an_interruption_stops_every_worker_and_exits_130(tmp_path: Path, to_group: bool) -> None:
    """A subprocess in a session of its own: it is sent SIGINT, as Ctrl-C sends it."""
    pacts, temporary = tmp_path / "pacts", tmp_path / "tmp"
    pacts.mkdir()
    temporary.mkdir()
    write(pacts, "a.json", many("consumer-a", 1000, "From A"))
    write(pacts, "b.json", many("consumer-b", 1000, "From B"))
    run = subprocess.Popen(
        verify_command(pacts, 2),
        env=environment(TMPDIR=str(temporary)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children")
    deadline = time.monotonic() + 30
    while len(workers := children.read_text().split()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the workers are verifying now
    if to_group:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in a terminal interrupts the whole foreground group
    else:
        run.send_signal(signal.SIGINT)  # `kill -INT` interrupts only the parent
    try:
        out, err = run.communicate(timeout=20)
        left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # whatever is left: the test fails, and leaves nothing running
    assert run.returncode == 130
    assert err.strip() == "verify: interrupted; the provider was shut down" and out == ""
    assert len(workers) == 2 and left == []
    assert list(temporary.iterdir()) == []


def pacts_of(*interactions: int, problem: str = "") -> list[Pact]:
    return [Pact(f"{n}.json", f"{n}.json", interactions=n, problem=problem) for n in interactions]


def test_a_worker_is_started_per_30_interactions_and_at_most_one_per_pact() -> None:
    assert [worker_count(4, pacts_of(n, 0, 0)) for n in (12, 30, 31, 61, 1000)] == [1, 1, 2, 3, 3]
    assert worker_count(2, pacts_of(1000, 0, 0)) == 2
    assert worker_count(4, pacts_of(0, 0, 0, problem="unread")) == 3  # broker pacts that could not be counted


def test_small_runs_stay_in_one_process(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--pact-dir", str(PACTS), "--jobs", "4"]) == 0
    assert "workers)" not in capfd.readouterr().out


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_one_or_more(jobs: str, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--jobs", jobs])
    assert exited.value.code == 2
    assert f"argument --jobs: must be a whole number of 1 or more, got {jobs!r}" in capfd.readouterr().err
