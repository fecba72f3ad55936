"""The report: the machine the figures were measured on, the table on stdout, and RESULTS.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from end_to_end import IMPORTTIME
from harness import Row

PACKAGES = ("starlette", "uvicorn", "uvloop", "httptools", "h11", "pact-python", "orjson")
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
