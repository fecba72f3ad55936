"""Serving figures: the project's app and the bare baseline, each in a uvicorn process of its own, under wrk."""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO

from attrs import frozen

from harness import (
    HERE,
    JSON_UTF8,
    LOAD_CPU,
    LOOPBACK,
    ROOT,
    SERVER_CPU,
    BenchFailed,
    Row,
    bench_env,
    median,
    pin,
    ratio,
    say,
    shown,
)

FAST_SERVER = ("--loop", "uvloop", "--http", "httptools")
PURE_SERVER = ("--loop", "asyncio", "--http", "h11")
SERVING_OPTIONS = (*FAST_SERVER, "--no-access-log")  # the recommended serving set-up
PROJECT_APP = "example_provider.app:app"
BASELINE_APP = "baseline_app:app"
ENDPOINTS = ("/product/10", "/products")
GOAL_PATH = "/product/10"  # the read with a throughput goal; the list is measured beside it
CONNECTIONS = 50
WARM_UP = 2.0  # seconds of load per server and endpoint before measuring
WRK_INSTALL = "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"


@frozen
class Load:
    """What one wrk run measured."""

    rps: float
    p99_ms: float
    errors: str = ""
    spread: float = 0.0  # of the medians' runs: (max - min) / median of the throughput


@frozen
class Served:
    """An app to serve under uvicorn: a label, its `module:attribute` and its options."""

    label: str
    target: str
    options: tuple[str, ...]


@frozen
class ServingFigures:
    """What one server measured: a Load per endpoint path, and the process's peak RSS."""

    loads: dict[str, Load]
    rss_mib: float


def unused_port() -> int:
    """A loopback port nothing listens on now, for a server process that binds it itself; the benchmarks
    run alone, so no one takes it in between (the in-process servers bind first: pipeline.server)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


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
    port = unused_port()
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


def measure_serving(servers: Sequence[Served], reps: int, seconds: float) -> dict[str, ServingFigures]:
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
        figures = {}
        for served in servers:
            medians = {}
            for path in ENDPOINTS:
                runs = loads[served.label, path]
                rates = [run.rps for run in runs]
                medians[path] = Load(
                    median(rates),
                    median([run.p99_ms for run in runs]),
                    "; ".join(sorted({run.errors for run in runs if run.errors})),
                    (max(rates) - min(rates)) / median(rates),
                )
            figures[served.label] = ServingFigures(medians, peak_rss_mib(started[served.label][0]))
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
        mine, base = figures["project"].loads[path], figures["baseline"].loads[path]
        note = f" ({mine.errors})" if mine.errors else ""
        held = path == GOAL_PATH  # only this read is held to the goal
        rows.append(
            Row(
                f"GET {path} throughput{note}",
                f"{mine.rps:,.0f} req/s (spread {mine.spread:.0%})",
                f"{base.rps:,.0f} req/s (spread {base.spread:.0%})",
                ratio(mine.rps, base.rps),
                goal="≥ 0.80" if held else "",
                met=mine.rps >= 0.8 * base.rps if held else None,
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
    rss, base_rss = figures["project"].rss_mib, figures["baseline"].rss_mib
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
