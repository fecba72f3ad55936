"""What every group of figures uses: the folders, the records of a figure, the children's environment,
the cores, the clock, and alternated runs."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from attrs import frozen

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
LOOPBACK = "127.0.0.1"
PROVIDER = "pactflow-example-provider-python"
JSON_UTF8 = "application/json; charset=utf-8"


class BenchFailed(RuntimeError):
    """A benchmark could not measure what it set out to; the message is one line."""


@frozen
class Row:
    """One figure of the table: the project's value, its baseline's, and how they compare."""

    figure: str
    project: str
    baseline: str
    ratio: str
    goal: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        """The goal and whether this run met it."""
        if self.met is None:
            return self.goal
        return f"{self.goal}: {'met' if self.met else 'NOT met'}"


def say(text: str) -> None:
    """A progress line on stderr, so stdout holds only the figures."""
    print(text, file=sys.stderr, flush=True)


def bench_env() -> dict[str, str]:
    """The environment for every child: local pacts only, no broker (even one named in .env), no telemetry,
    and the system's default trust (no SSL_CERT_FILE or SSL_CERT_DIR)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PACT_", "PACTFLOW_", "SSL_CERT_"))}
    env.update(PACT_DO_NOT_TRACK="true", PACT_BROKER_BASE_URL="", PACT_URL="", PACT_DIR="")
    return env


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


SERVER_CPU, LOAD_CPU = (_cpus()[-1], _cpus()[0]) if len(_cpus()) >= 2 else (None, None)


def pin(cpu: int | None) -> Callable[[], None] | None:
    """A pre-exec hook that keeps a child on one CPU: the server and wrk then never share a core."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _cpu_times() -> tuple[int, int]:
    """Idle and total jiffies of all cores since boot (zeros where /proc/stat is missing)."""
    stat = Path("/proc/stat")
    fields = [int(value) for value in stat.read_text().split("\n", 1)[0].split()[1:]] if stat.exists() else []
    return (fields[3] + fields[4], sum(fields)) if fields else (0, 0)


def busy_note(seconds: float = 1.0) -> str:
    """A warning when other work keeps the cores busy now: the figures then say little."""
    idle_before, total_before = _cpu_times()
    time.sleep(seconds)
    idle_after, total_after = _cpu_times()
    busy = 1 - (idle_after - idle_before) / max(total_after - total_before, 1)
    return f"other work kept the cores {busy:.0%} busy before the run" if busy > 0.15 else ""


def pinning() -> str:
    """How the load generator and the server share the cores, in words."""
    return f" (server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU})" if SERVER_CPU is not None else ""


def shown(text: str) -> str:
    """Text for the report with this machine's folders left out."""
    return text.replace(f"{ROOT}/", "").replace(str(ROOT), ".").replace(tempfile.gettempdir(), "TMP")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(project: float, baseline: float) -> str:
    return f"{project / baseline:.2f}" if baseline else "—"


def timed(command: Sequence[str], expect: str) -> float:
    """Wall time of a command that must exit 0 and print `expect`."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise BenchFailed(shown(f"{' '.join(command[1:])} did not pass ({done.returncode}): {' / '.join(tail)}"))
    return elapsed


def alternate(first: Callable[[], float], second: Callable[[], float], reps: int) -> tuple[float, float]:
    """Medians of `reps` runs of each, alternating which goes first to spread drift."""
    times: tuple[list[float], list[float]] = ([], [])
    for rep in range(reps):
        pair = ((0, first), (1, second)) if rep % 2 == 0 else ((1, second), (0, first))
        for index, run in pair:
            times[index].append(run())
    return median(times[0]), median(times[1])
