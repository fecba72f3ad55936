"""The pipeline's entry points, run in the test's own process (`runs.run_main`), answer as a fresh
`python -m` does, leave the test's process as they found it, and keep its other threads' output out of theirs."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from pipeline.trust import USER_TRUST
from tests.support.broker import BrokerDouble
from tests.support.runs import ROOT, consumer_pact, environment, in_a_process, named_products, pipeline, verify

TIMES = re.compile(r"\b\d+(\.\d+)?(ms|s)\b")  # the verifier's timings differ from run to run


def answer(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, TIMES.sub("_", done.stdout), TIMES.sub("_", done.stderr)


def fresh(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A subprocess, as the reference: `python -m pipeline.verify` in a process of its own."""
    return in_a_process(cwd, env, "-m", "pipeline.verify", *args)


def test_a_run_in_this_process_answers_as_a_fresh_process(tmp_path: Path) -> None:
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps(consumer_pact("web", ("10", "Wrong name"), status=404)))
    env = environment(PACT_DIR=str(ROOT / "pacts"))
    codes = set()
    for args in ((), ("--pact-url", str(failing)), ("--jobs", "0")):
        here = answer(verify(tmp_path, env, *args))
        assert here == answer(fresh(tmp_path, env, *args)), args
        codes.add(here[0])
    assert codes == {0, 1, 2}


def test_each_run_has_its_own_environment_and_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PACT_BROKER_BASE_URL=http://127.0.0.1:1\n")
    with_env = verify(tmp_path, environment())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    without = verify(elsewhere, environment())
    assert with_env.returncode == 2 and "127.0.0.1:1" in with_env.stderr
    assert without.returncode == 0, without.stdout + without.stderr


def test_a_run_leaves_this_process_as_it_found_it(tmp_path: Path) -> None:
    """Its environment (the verifier's trust is set for the run on the system's), folder, streams, threads,
    worker processes and the verifier's logging handler are this process's own again after it."""
    environ, folder, streams, fds = dict(os.environ), os.getcwd(), (sys.stdout, sys.stderr), (os.fstat(1), os.fstat(2))
    threads = set(threading.enumerate())
    handlers = logging.getLogger("pact.ffi").handlers[:]
    for consumer in ("a", "b"):  # two pacts large enough for a worker each
        (tmp_path / f"{consumer}.json").write_text(json.dumps(consumer_pact(consumer, *named_products(40, "Large"))))
    system_trust = {key: value for key, value in environment(JOBS="2").items() if key not in USER_TRUST}
    done = verify(tmp_path, system_trust, "--pact-dir", str(tmp_path))
    assert done.returncode == 0 and "(2 workers)" in done.stdout, done.stdout + done.stderr
    assert dict(os.environ) == environ and os.getcwd() == folder and (sys.stdout, sys.stderr) == streams
    assert os.fstat(1) == fds[0] and os.fstat(2) == fds[1]
    assert set(threading.enumerate()) == threads and multiprocessing.active_children() == []
    assert logging.getLogger("pact.ffi").handlers == handlers


def test_what_the_tests_own_threads_write_during_a_run_is_not_its_output(broker: BrokerDouble, tmp_path: Path) -> None:
    """A thread that was running before the run (as a broker double's server is) writes while the run waits."""
    broker.fail("matrix", 0, times=1, delay=1)  # the step waits a second for the broker's answer
    written = threading.Event()

    def write_while_the_step_waits() -> None:
        deadline = time.monotonic() + 60
        while not any(request.path == "/matrix" for request in broker.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        print("written by the test's own thread", file=sys.stderr, flush=True)
        written.set()

    threading.Thread(target=write_while_the_step_waits, daemon=True).start()
    done = pipeline("can-i-deploy", tmp_path, environment(broker, GIT_COMMIT="prov-1"))
    assert written.is_set() and "[can-i-deploy]" in done.stdout + done.stderr
    assert "written by the test's own thread" not in done.stdout + done.stderr
