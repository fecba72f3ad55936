"""Parallel figures: equal pacts verified with --jobs 2 against --jobs 1."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from harness import ROOT, BenchFailed, Row, alternate, bench_env, say, shown, timed
from verification import project_verify, write_pact

PARALLEL_GOAL_SIZE = 500  # two pacts of this many interactions: --jobs 2 at least 1.6 times as fast as --jobs 1


def has_jobs_option() -> bool:
    """Whether the entry point takes --jobs; it must at least answer --help."""
    done = subprocess.run(project_verify("--help"), cwd=ROOT, env=bench_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchFailed(shown(f"pipeline.verify --help failed: {done.stderr.strip()[-300:]}"))
    return "--jobs" in done.stdout


def parallel_rows(pacts: int, sizes: Sequence[int], reps: int) -> list[Row]:
    """Item 4: K equal pacts of each size verified with --jobs 2 against --jobs 1."""
    if not has_jobs_option():
        print("parallel: --jobs not available")
        return [Row("parallel verification", "—", "—", "—", "--jobs not available")]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-pacts-") as folder:
            for k in range(pacts):
                write_pact(Path(folder), f"bench-consumer-{k + 1}", size, first_id=1 + k * size)
            expect = f"{pacts * size} passed, 0 failed"
            say(f"  verify {pacts}×{size}: --jobs 2 vs --jobs 1 ({reps} runs each)")
            two, one = alternate(
                partial(timed, project_verify("--pact-dir", folder, "--jobs", "2"), expect),
                partial(timed, project_verify("--pact-dir", folder, "--jobs", "1"), expect),
                reps,
            )
        goal, met = ("≥ 1.60×", one >= 1.6 * two) if size == PARALLEL_GOAL_SIZE else ("", None)
        figure = f"parallel verify {pacts}×{size} interactions, --jobs 2 (baseline --jobs 1)"
        rows.append(Row(figure, f"{two:.2f} s", f"{one:.2f} s", f"{one / two:.2f}× speed-up", goal, met))
    return rows
