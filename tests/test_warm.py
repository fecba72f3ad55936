"""The warm interpreter the pipeline tests run in (tests.support.warm) behaves as a fresh `python -m`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support.runs import ROOT, consumer_pact, environment, make, verify

TIMES = re.compile(r"\b\d+(\.\d+)?(ms|s)\b")  # the verifier's timings differ from run to run


def answer(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, TIMES.sub("_", done.stdout), TIMES.sub("_", done.stderr)


def fresh(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline.verify", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_warm_run_answers_as_a_fresh_process(tmp_path: Path) -> None:
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps(consumer_pact("web", ("10", "Wrong name"), status=404)))
    env = environment(PACT_DIR=str(ROOT / "pacts"))
    codes = set()
    for args in ((), ("--pact-url", str(failing)), ("--jobs", "0")):
        warm = answer(verify(tmp_path, env, *args))
        assert warm == answer(fresh(tmp_path, env, *args)), args
        codes.add(warm[0])
    assert codes == {0, 1, 2}


def test_each_run_has_its_own_environment_and_folder(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PACT_BROKER_BASE_URL=http://127.0.0.1:1\n")
    with_env = verify(tmp_path, environment())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    without = verify(elsewhere, environment())
    assert with_env.returncode == 2 and "127.0.0.1:1" in with_env.stderr
    assert without.returncode == 0, without.stdout + without.stderr


def test_make_runs_the_pipeline_through_the_shim_and_anything_else_as_it_is(tmp_path: Path) -> None:
    done = make("verify", tmp_path, environment())
    assert done.returncode == 0 and "verification passed" in done.stdout, done.stdout + done.stderr
    refused = make("verify_pact", tmp_path, environment())
    assert refused.returncode == 2 and "verify_pact needs PACT_URL" in refused.stderr
