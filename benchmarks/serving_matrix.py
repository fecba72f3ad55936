"""The serving options side by side: `python benchmarks/serving_matrix.py` writes benchmarks/SERVING.md.

Not part of `make bench` (it takes about 5 minutes). Part A serves the project's app under each uvicorn
set-up beside the bare baseline under the same set-up; part B keeps the fastest set-up and varies how the
JSON is made (benchmarks/variants.py). Every server answers the same bytes; runs are alternated, medians kept.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.util import find_spec

from harness import HERE, busy_note, pinning, say
from report import machine
from serving import (
    BASELINE_APP,
    CONNECTIONS,
    ENDPOINTS,
    FAST_SERVER,
    PURE_SERVER,
    WARM_UP,
    WRK_INSTALL,
    BenchFailed,
    Served,
    ServingFigures,
    measure_serving,
)

QUIET = ("--no-access-log",)
SET_UPS = {
    "asyncio + h11, access log (uvicorn without extras)": PURE_SERVER,
    "asyncio + h11, --no-access-log": (*PURE_SERVER, *QUIET),
    "uvloop + httptools, access log (uvicorn[standard])": FAST_SERVER,
    "uvloop + httptools, --no-access-log": (*FAST_SERVER, *QUIET),
    "uvloop + httptools, --no-access-log, --workers 2 (on the server's one core; RSS of the supervisor)": (
        *FAST_SERVER,
        *QUIET,
        "--workers",
        "2",
    ),
}
RENDERINGS = {
    "the project: JSON per request, the endpoints holding the store (app.py)": "as_is",
    "json.dumps per response": "json_dumps",
    "orjson.dumps per response": "orjson_render",
    "JSON cached per product value": "cached_per_product",
}


def set_up_rows(reps: int, seconds: float) -> list[list[str]]:
    """Part A: the project's app and the baseline under each uvicorn set-up."""
    servers = []
    for label, options in SET_UPS.items():
        servers += [
            Served(f"project: {label}", "variants:as_is", (*options, "--factory")),
            Served(f"baseline: {label}", BASELINE_APP, options),
        ]
    figures = measure_serving(servers, reps, seconds)
    rows = []
    for label in SET_UPS:
        mine, base = figures[f"project: {label}"], figures[f"baseline: {label}"]
        floor = cells(base, base)
        rows.append([label, *cells(mine, base), floor[0], floor[3]])
    return rows


def rendering_rows(reps: int, seconds: float) -> list[list[str]]:
    """Part B: under uvloop + httptools without the access log, each way of making the JSON."""
    options = (*FAST_SERVER, *QUIET)
    renderings = {k: v for k, v in RENDERINGS.items() if v != "orjson_render" or find_spec("orjson")}
    servers = [Served(label, f"variants:{factory}", (*options, "--factory")) for label, factory in renderings.items()]
    servers.append(Served("baseline", BASELINE_APP, options))
    figures = measure_serving(servers, reps, seconds)
    return [[label, *cells(figures[label], figures["baseline"])] for label in [*renderings, "baseline"]]


SPREADS: list[float] = []


def cells(mine: ServingFigures, base: ServingFigures) -> list[str]:
    """Throughput (and its ratio to the baseline) and p99 per endpoint, then peak RSS."""
    out = []
    for path in ENDPOINTS:
        load, floor = mine.loads[path], base.loads[path]
        SPREADS.append(load.spread)
        out += [f"{load.rps:,.0f}", f"{load.rps / floor.rps:.2f}", f"{load.p99_ms:.2f}"]
    return [*out, f"{mine.rss_mib:.1f}"]


def markdown_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [f"| {' | '.join(head)} |", "| --- |" + " ---: |" * (len(head) - 1), *[f"| {' | '.join(r)} |" for r in rows]]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure both parts, print them and write SERVING.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(WRK_INSTALL, file=sys.stderr)
        return 1
    busy = busy_note()
    if busy:
        say(f"warning: {busy}")
    per_path = [f"{p} {what}" for p in ENDPOINTS for what in ("req/s", "÷ baseline", "p99 ms")]
    try:
        say("part A: uvicorn set-ups")
        part_a = set_up_rows(args.reps, args.seconds)
        say("part B: JSON rendering")
        part_b = rendering_rows(args.reps, args.seconds)
    except BenchFailed as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Serving set-ups", "", f"Measured by `python benchmarks/serving_matrix.py` on {when}.", ""]
    lines += [f"- **{key}**: {value}" for key, value in machine()]
    lines += [
        "",
        f"One worker on loopback, `wrk -t1 -c{CONNECTIONS} -d{args.seconds:g}s --latency`{pinning()}, medians of "
        f"{args.reps} alternated runs after a {WARM_UP:g} s warm-up; the access log goes to /dev/null (its cheapest "
        f"sink). Largest spread of a throughput's runs, (max − min) ÷ median: {max(SPREADS):.0%}."
        + (f" Warning: {busy}." if busy else ""),
        "",
        "## A. uvicorn set-ups: the project's app, and the bare baseline under the same set-up",
        "",
    ]
    head_a = ["set-up", *per_path, "RSS MiB", *[f"baseline {p} req/s" for p in ENDPOINTS]]
    lines += [*markdown_table(head_a, part_a), ""]
    lines += ["## B. JSON rendering, under `--loop uvloop --http httptools --no-access-log`", ""]
    lines += [*markdown_table(["rendering", *per_path, "RSS MiB"], part_b), ""]
    (HERE / "SERVING.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
