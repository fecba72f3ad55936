"""`make bench`: each figure of the products API and its verification beside a baseline measured in the same run.

Prints the table and the machine, and writes the same as Markdown to benchmarks/RESULTS.md. Not a test and
never part of `make test` or CI: a goal not met is reported, not failed (the exit code is 1 only when a figure
could not be measured). Loopback only, about 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
RESULTS = HERE / "RESULTS.md"
LOOPBACK = "127.0.0.1"
PROVIDER = "pactflow-example-provider-python"
JSON_UTF8 = "application/json; charset=utf-8"
PACKAGES = ("starlette", "uvicorn", "uvloop", "httptools", "h11", "pact-python", "orjson")

FAST_SERVER = ("--loop", "uvloop", "--http", "httptools")
PURE_SERVER = ("--loop", "asyncio", "--http", "h11")
SERVING_OPTIONS = (*FAST_SERVER, "--no-access-log")  # the recommended serving set-up
PROJECT_APP = "example_provider.app:app"
BASELINE_APP = "baseline_app:app"
ENDPOINTS = ("/product/10", "/products")
CONNECTIONS = 50
WARM_UP = 2.0  # seconds of load per server and endpoint before measuring
PARALLEL_GOAL_SIZE = 150  # two pacts of this many interactions: --jobs 2 at least 1.7 times as fast as --jobs 1
BASELINES = [
    "- **Serving**: `benchmarks/baseline_app.py`, a bare Starlette app answering the same bytes, precomputed, "
    "with no store, served by the same uvicorn command (one worker, same options) as a subprocess.",
    "- **Verification (the floor)**: `benchmarks/floor.py`, pact-python's `Verifier` with the same settings in a "
    "minimal script against the bare app and a no-op states endpoint; both sides are cold subprocesses that pay "
    "their own imports and server start. The pacts are generated: N interactions `a product with ID {i} exists` "
    "+ `GET /product/{i}`, bodies with type matchers. Both run with the system's default trust (no SSL_CERT_FILE "
    "or SSL_CERT_DIR): the floor's verifier loads the certificate folder for every request, the project's reads "
    "the system bundle that holds the same certificates.",
    "- **Imports**: `python -c 'import pact, uvicorn, starlette.applications'`, what the floor imports.",
]
IMPORTTIME = "`python -X importtime`, self time summed per top-level package"
WRK_INSTALL = "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"


class BenchFailed(RuntimeError):
    """A benchmark could not measure what it set out to; the message is one line."""


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    rps: float
    p99_ms: float
    errors: str = ""
    spread: float = 0.0  # of the medians' runs: (max - min) / median of the throughput


@dataclass(frozen=True)
class Served:
    """An app to serve under uvicorn: a label, its `module:attribute` and its options."""

    label: str
    target: str
    options: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- plumbing


def say(text: str) -> None:
    """A progress line on stderr, so stdout holds only the figures."""
    print(text, file=sys.stderr, flush=True)


def bench_env() -> dict[str, str]:
    """The environment for every child: local pacts only, no broker (even one named in .env), no telemetry,
    and the system's default trust (no SSL_CERT_FILE or SSL_CERT_DIR)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PACT_", "PACTFLOW_", "SSL_CERT_"))}
    env.update(PACT_DO_NOT_TRACK="true", PACT_BROKER_BASE_URL="", PACT_URL="", PACT_DIR="")
    return env


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


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


def fetch(base_url: str, path: str) -> tuple[int, str, bytes]:
    """Status, content type and body of one GET."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def shown(text: str) -> str:
    """Text for the report with this machine's folders left out."""
    return text.replace(f"{ROOT}/", "").replace(str(ROOT), ".").replace(tempfile.gettempdir(), "TMP")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(project: float, baseline: float) -> str:
    return f"{project / baseline:.2f}" if baseline else "—"


# ---------------------------------------------------------------------------------------------- serving


def _wait_serving(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes], timeout: float = 20.0) -> None:
    """Return once the server answers; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise BenchFailed(shown(f"the server exited: {log.read().decode(errors='replace').strip()[-400:]}"))
        try:
            fetch(base_url, ENDPOINTS[0])
            return
        except OSError:
            time.sleep(0.05)
    raise BenchFailed(f"the server at {base_url} did not answer within {timeout:.0f} s")


@contextmanager
def serve(served: Served) -> Iterator[tuple[int, str]]:
    """Run `uvicorn TARGET` as a subprocess on a free loopback port; yield its pid and base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", served.target, "--app-dir", str(HERE)]
    command += ["--host", LOOPBACK, "--port", str(port), *served.options]  # default log level: the access log is on
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=bench_env(), stdout=subprocess.DEVNULL, stderr=log, preexec_fn=pin(SERVER_CPU)
        )
        try:
            base_url = f"http://{LOOPBACK}:{port}"
            _wait_serving(process, base_url, log)
            yield process.pid, base_url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status")
    found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text() if status.exists() else "", re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def _milliseconds(text: str) -> float:
    """A wrk duration such as 812.00us, 3.41ms or 1.02s, in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, seconds: float) -> Load:
    """One wrk run: one thread, CONNECTIONS keep-alive connections, with the latency distribution."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", url]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True, preexec_fn=pin(LOAD_CPU)
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    if not rps or not p99:
        raise BenchFailed(f"could not read wrk's output: {out[-300:]}")
    errors = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return Load(float(rps.group(1)), _milliseconds(p99.group(1)), "; ".join(errors))


def check_same_answers(urls: dict[str, str]) -> None:
    """Every server must answer each endpoint with the same status, content type and bytes."""
    for path in ENDPOINTS:
        answers = {label: fetch(url, path) for label, url in urls.items()}
        first_label, first = next(iter(answers.items()))
        if first[0] != 200 or first[1] != JSON_UTF8:
            raise BenchFailed(f"{first_label} answered GET {path} with {first[0]} {first[1]!r}")
        for label, answer in answers.items():
            if answer != first:
                raise BenchFailed(f"{label} and {first_label} answer GET {path} differently: {answer!r} != {first!r}")


def measure_serving(servers: Sequence[Served], reps: int, seconds: float) -> dict[str, dict[str, object]]:
    """Throughput, p99 and peak RSS of each server, runs alternated between servers, medians taken."""
    with ExitStack() as stack:
        started = {served.label: stack.enter_context(serve(served)) for served in servers}
        check_same_answers({label: url for label, (_, url) in started.items()})
        for _, url in started.values():  # warm-up: JIT-free Python still fills caches and pools
            for path in ENDPOINTS:
                wrk(url + path, WARM_UP)
        loads: dict[tuple[str, str], list[Load]] = {(s.label, p): [] for s in servers for p in ENDPOINTS}
        for rep in range(reps):
            order = list(servers) if rep % 2 == 0 else list(reversed(servers))
            for path in ENDPOINTS:
                for served in order:
                    load = wrk(started[served.label][1] + path, seconds)
                    loads[served.label, path].append(load)
                    say(f"  {served.label:<40} {path:<12} {load.rps:>9,.0f} req/s  p99 {load.p99_ms:5.2f} ms")
        figures: dict[str, dict[str, object]] = {}
        for served in servers:
            figure: dict[str, object] = {"rss": peak_rss_mib(started[served.label][0])}
            for path in ENDPOINTS:
                runs = loads[served.label, path]
                rates = [run.rps for run in runs]
                figure[path] = Load(
                    median(rates),
                    median([run.p99_ms for run in runs]),
                    "; ".join(sorted({run.errors for run in runs if run.errors})),
                    (max(rates) - min(rates)) / median(rates),
                )
            figures[served.label] = figure
        return figures


def serving_rows(reps: int, seconds: float) -> list[Row]:
    """Item 1: the project's serving command against the bare baseline, same uvicorn settings."""
    if shutil.which("wrk") is None:
        say(WRK_INSTALL)
        return [Row("serving (all figures)", "skipped", "skipped", "—", WRK_INSTALL)]
    options = serving_options()
    project, baseline = Served("project", PROJECT_APP, options), Served("baseline", BASELINE_APP, options)
    figures = measure_serving([project, baseline], reps, seconds)
    rows = []
    for path in ENDPOINTS:
        mine, base = figures["project"][path], figures["baseline"][path]
        assert isinstance(mine, Load) and isinstance(base, Load)
        note = f" ({mine.errors})" if mine.errors else ""
        rows.append(
            Row(
                f"GET {path} throughput{note}",
                f"{mine.rps:,.0f} req/s (spread {mine.spread:.0%})",
                f"{base.rps:,.0f} req/s (spread {base.spread:.0%})",
                ratio(mine.rps, base.rps),
                "≥ 0.90",
                mine.rps >= 0.9 * base.rps,
            )
        )
        rows.append(
            Row(
                f"GET {path} p99 latency",
                f"{mine.p99_ms:.2f} ms",
                f"{base.p99_ms:.2f} ms",
                ratio(mine.p99_ms, base.p99_ms),
            )
        )
    rss, base_rss = float(figures["project"]["rss"]), float(figures["baseline"]["rss"])  # type: ignore[arg-type]
    rows.append(Row("serving process peak RSS (VmHWM)", f"{rss:.1f} MiB", f"{base_rss:.1f} MiB", ratio(rss, base_rss)))
    return rows


def serving_options() -> tuple[str, ...]:
    """The recommended options, or the pure-Python server when uvloop/httptools are not installed."""
    try:
        metadata.version("uvloop"), metadata.version("httptools")
    except metadata.PackageNotFoundError:
        say("uvloop/httptools are not installed (uvicorn[standard]): serving with asyncio + h11")
        return (*PURE_SERVER, "--no-access-log")
    return SERVING_OPTIONS


# ---------------------------------------------------------------------------------------------- verification


def interaction(product_id: str) -> dict[str, object]:
    """A V4 interaction: given the product exists, GET it and expect a product-shaped body."""
    return {
        "type": "Synchronous/HTTP",
        "description": f"a request for product {product_id}",
        "pending": False,
        "providerStates": [{"name": f"a product with ID {product_id} exists"}],
        "request": {"method": "GET", "path": f"/product/{product_id}"},
        "response": {
            "status": 200,
            "headers": {"Content-Type": [JSON_UTF8]},
            "body": {
                "content": {"id": product_id, "type": "CREDIT_CARD", "name": f"Product {product_id}"},
                "contentType": JSON_UTF8,
                "encoded": False,
            },
            "matchingRules": {"body": {"$": {"combine": "AND", "matchers": [{"match": "type"}]}}},
        },
    }


def write_pact(folder: Path, consumer: str, count: int, first_id: int = 1) -> Path:
    """A pact file of `count` interactions between `consumer` and the provider."""
    document = {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": [interaction(str(first_id + i)) for i in range(count)],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    path = folder / f"{consumer}-{PROVIDER}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def timed(command: Sequence[str], expect: str) -> float:
    """Wall time of a command that must exit 0 and print `expect`."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise BenchFailed(shown(f"{' '.join(command[1:])} did not pass ({done.returncode}): {' / '.join(tail)}"))
    return elapsed


def project_verify(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.verify", *args]


def floor_verify(pact_dir: Path) -> list[str]:
    return [sys.executable, str(HERE / "floor.py"), str(pact_dir)]


def alternate(first: Callable[[], float], second: Callable[[], float], reps: int) -> tuple[float, float]:
    """Medians of `reps` runs of each, alternating which goes first to spread drift."""
    times: tuple[list[float], list[float]] = ([], [])
    for rep in range(reps):
        pair = ((0, first), (1, second)) if rep % 2 == 0 else ((1, second), (0, first))
        for index, run in pair:
            times[index].append(run())
    return median(times[0]), median(times[1])


def compare_with_floor(project: Sequence[str], floor_dir: Path, size: int, reps: int) -> tuple[float, float]:
    """Median wall times of the project's verification command and of the floor on `floor_dir`, alternated."""
    return alternate(
        lambda: timed(project, f"verification passed: {size} passed, 0 failed"),
        lambda: timed(floor_verify(floor_dir), f"{size} passed, 0 failed"),
        reps,
    )


def verification_rows(sizes: Sequence[int], reps: int) -> list[Row]:
    """Item 2: the project's entry point against the verifier's floor, on generated pacts."""
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-pacts-") as folder:
            write_pact(Path(folder), "bench-consumer", size)
            say(f"  verify N={size}: project vs floor ({reps} runs each)")
            mine, floor = compare_with_floor(project_verify("--pact-dir", folder), Path(folder), size, reps)
        figure = f"verify N={size} interactions, wall time"
        rows.append(Row(figure, f"{mine:.2f} s", f"{floor:.2f} s (floor)", ratio(mine, floor), "≤ 0.65", mine <= 0.65 * floor))
    return rows


# ---------------------------------------------------------------------------------------------- end to end


def project_pacts_size() -> int:
    """How many interactions the project's own pacts hold."""
    return sum(len(json.loads(path.read_text())["interactions"]) for path in sorted((ROOT / "pacts").glob("*.json")))


def end_to_end_rows(reps: int) -> list[Row]:
    """Item 3: verifying pacts/ from a cold process, and the import time, each against the floor."""
    size = project_pacts_size()
    with tempfile.TemporaryDirectory(prefix="bench-pacts-") as folder:
        write_pact(Path(folder), "bench-consumer", size)
        say(f"  verify pacts/ ({size} interactions) vs floor ({reps} runs each)")
        mine, floor = compare_with_floor(project_verify(), Path(folder), size, reps)
    say(f"  imports ({reps} runs each)")
    imports, floor_imports = alternate(
        lambda: timed([sys.executable, "-c", "import pipeline.verify"], ""),
        lambda: timed([sys.executable, "-c", "import pact, uvicorn, starlette.applications"], ""),
        reps,
    )
    return [
        Row(
            f"verify pacts/ ({size} interactions), cold process",
            f"{mine:.2f} s",
            f"{floor:.2f} s (floor, {size} generated)",
            ratio(mine, floor),
            "< 0.50 s",
            mine < 0.5,
        ),
        Row(
            "import pipeline.verify",
            f"{imports * 1000:.0f} ms",
            f"{floor_imports * 1000:.0f} ms (pact, uvicorn, starlette)",
            ratio(imports, floor_imports),
        ),
    ]


def import_breakdown(top: int = 8) -> list[tuple[str, float]]:
    """Where `import pipeline.verify` spends its time: self ms per top-level package (-X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pipeline.verify"],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
        if found:
            name = found.group(2).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(found.group(1)) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


# ---------------------------------------------------------------------------------------------- parallel


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
                lambda: timed(project_verify("--pact-dir", folder, "--jobs", "2"), expect),
                lambda: timed(project_verify("--pact-dir", folder, "--jobs", "1"), expect),
                reps,
            )
        goal, met = ("≥ 1.70×", one >= 1.7 * two) if size == PARALLEL_GOAL_SIZE else ("", None)
        figure = f"parallel verify {pacts}×{size} interactions, --jobs 2 (baseline --jobs 1)"
        rows.append(Row(figure, f"{two:.2f} s", f"{one:.2f} s", f"{one / two:.2f}× speed-up", goal, met))
    return rows


# ---------------------------------------------------------------------------------------------- report


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    model = next(names, platform.processor() or "unknown")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    wrk_version = "not installed"
    if shutil.which("wrk"):
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk_version = (done.stdout + done.stderr).split("[")[0].replace("wrk", "").strip() or "unknown"
    return [
        ("cores", f"{usable} usable of {os.cpu_count()}"),
        ("CPU", model),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(versions)),
        ("wrk", wrk_version),
    ]


def table(rows: Sequence[Row]) -> list[str]:
    """The figures as a Markdown table."""
    lines = ["| figure | project | baseline | ratio | goal |", "| --- | ---: | ---: | ---: | --- |"]
    lines += [f"| {r.figure} | {r.project} | {r.baseline} | {r.ratio} | {r.verdict} |" for r in rows]
    return lines


def markdown(rows: Sequence[Row], imports: Sequence[tuple[str, float]], settings: str) -> str:
    """RESULTS.md: the machine, the settings, the figures, the import breakdown."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Benchmark results", "", f"Measured by `make bench` (`python benchmarks/run.py`) on {when}.", ""]
    lines += [f"- **{key}**: {value}" for key, value in machine()]
    lines += ["", f"Settings: {settings}.", "", *table(rows), ""]
    lines += [
        "Ratios are project ÷ baseline (for the speed-up, `--jobs 1` ÷ `--jobs 2`). The spread of a throughput is "
        "(max − min) ÷ median of its runs: well above 10 % means something else used the cores; measure again.",
        "",
        *BASELINES,
        "",
    ]
    if imports:
        lines += [f"Where `import pipeline.verify` spends its time ({IMPORTTIME}):", ""]
        lines += ["| package | ms |", "| --- | ---: |", *[f"| {name} | {ms:.0f} |" for name, ms in imports], ""]
    return "\n".join(lines)


def print_report(rows: Sequence[Row], settings: str) -> None:
    """The machine and the figures, plain, on stdout."""
    for key, value in machine():
        print(f"{key:>9}: {value}")
    print(f" settings: {settings}")
    widths = [max(len(getattr(row, name)) for row in rows) for name in ("figure", "project", "baseline", "ratio")]
    for row in rows:
        cells = (row.figure.ljust(widths[0]), row.project.rjust(widths[1]), row.baseline.rjust(widths[2]))
        print(f"{cells[0]}  {cells[1]}  {cells[2]}  {row.ratio.rjust(widths[3])}  {row.verdict}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short run of each figure, to try the harness")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md as it is")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every figure, print them, and write RESULTS.md."""
    args = parse_args(argv)
    reps, seconds, sizes = (1, 2.0, (100,)) if args.quick else (3, 3.0, (100, 500))
    serving_reps = 1 if args.quick else 5  # short runs, more of them: the median shrugs off a noisy neighbour
    settings = (
        f"serving `uvicorn {PROJECT_APP} {' '.join(serving_options())}` (baseline: same options), "
        f"`wrk -t1 -c{CONNECTIONS} -d{seconds:g}s --latency`{pinning()}, medians of {serving_reps} alternated runs "
        f"after a {WARM_UP:g} s warm-up; verification times are medians of {reps} alternated cold runs"
    )
    sections: dict[str, Callable[[], list[Row]]] = {
        "serving": lambda: serving_rows(serving_reps, seconds),
        "verification overhead": lambda: verification_rows(sizes, reps),
        "end to end": lambda: end_to_end_rows(1 if args.quick else 5),
        "parallel": lambda: parallel_rows(2, (50,) if args.quick else (PARALLEL_GOAL_SIZE, 300), 1 if args.quick else 3),
    }
    busy = busy_note()
    if busy:
        say(f"warning: {busy}")
        settings += f". Warning: {busy}"
    rows: list[Row] = []
    failed = False
    for name, measure in sections.items():
        say(name)
        try:
            rows += measure()
        except (
            BenchFailed,
            subprocess.SubprocessError,
            OSError,
        ) as error:  # one broken figure must not lose the others
            reason = " ".join(str(error).split())[-240:]  # one line, its end: where a traceback names the error
            print(f"bench: {name}: {reason}", file=sys.stderr)
            rows.append(Row(f"{name}: could not be measured", "—", "—", "—", reason))
            failed = True
    print_report(rows, settings)
    if not args.no_write:
        RESULTS.write_text(markdown(rows, import_breakdown(), settings), encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
