"""Verifying several pacts at once: each in its own process, with its own app, store and server."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from attrs import frozen

from pipeline.broker import PactForVerification

INTERACTIONS_PER_WORKER = 100  # below this a worker process costs more than it saves
VERDICT = re.compile(r"^verification (?:passed: |FAILED \()(\d+) passed, (\d+) failed", re.MULTILINE)


@frozen
class PactJob:
    """One pact for one worker: a file or a broker URL, and whether its failures may fail the build."""

    label: str
    source: str
    pending: bool = False
    notices: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str) -> PactJob:
        return cls(label=Path(path).name, source=path)

    @classmethod
    def from_broker(cls, pact: PactForVerification) -> PactJob:
        return cls(label=pact.description, source=pact.url, pending=pact.pending, notices=pact.notices)


def worker_count(jobs: int, pacts: int, interactions: int | None) -> int:
    """How many worker processes are worth starting: at most one per pact, and one per
    INTERACTIONS_PER_WORKER interactions (when the count is unknown, one per pact)."""
    by_size = pacts if interactions is None else -(-interactions // INTERACTIONS_PER_WORKER)
    return max(1, min(jobs, pacts, by_size))


def verify_in_worker(job: PactJob, publish: bool) -> subprocess.CompletedProcess[str]:
    """Verify one pact in a new process of the verify entry point, which prints its own summary."""
    command = [sys.executable, "-m", "pipeline.verify", "--pact-url", job.source, "--jobs", "1"]
    command += ["--publish" if publish else "--no-publish"] + (["--pending"] if job.pending else [])
    return subprocess.run(command, capture_output=True, text=True, check=False)


def reason(done: subprocess.CompletedProcess[str]) -> str:
    """Why a worker failed: the reason its verdict gives, or its one-line error."""
    verdicts = [line for line in done.stdout.splitlines() if line.startswith("verification FAILED (")]
    if verdicts:
        return verdicts[-1].split("): ", 1)[-1]
    errors = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return errors[-1].removeprefix("verify: ") if errors else f"the worker exited with {done.returncode}"


def verify_in_parallel(jobs: Sequence[PactJob], workers: int, *, publish: bool = False) -> int:
    """Verify each pact in a worker; print each pact's output as a group, in order, as soon as it is
    done; answer the exit code."""
    passed = failed = 0
    broken: list[str] = []
    worst = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job, done in zip(jobs, pool.map(lambda job: verify_in_worker(job, publish), jobs), strict=True):
            print(f"\n===== {job.label} =====")
            for notice in job.notices:
                print(f"  {notice}")
            print((done.stdout + done.stderr).rstrip(), flush=True)
            if counts := VERDICT.search(done.stdout):
                passed, failed = passed + int(counts[1]), failed + int(counts[2])
            if done.returncode != 0:
                broken.append(f"{job.label}: {reason(done)}")
                worst = max(worst, done.returncode)
    counts = f"{passed} passed, {failed} failed in {len(jobs)} pacts ({workers} workers)"
    if broken:
        more = f" (and {len(broken) - 1} more failed pacts)" if len(broken) > 1 else ""
        print(f"\nverification FAILED ({counts}): {broken[0]}{more}")
        return worst
    print(f"\nverification passed: {counts}{'; results published' if publish else ''}")
    return 0
