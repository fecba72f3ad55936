"""`make bench`: each figure of the products API and its verification beside a baseline measured in the same run.

Prints the table and the machine, and writes the same as Markdown to benchmarks/RESULTS.md. Not a test and
never part of `make test` or CI: a goal not met is reported, not failed (the exit code is 1 only when a figure
could not be measured). Loopback only, about 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence

from end_to_end import end_to_end_rows, import_breakdown
from harness import HERE, ROOT, BenchFailed, Row, busy_note, pinning, say
from parallel import PARALLEL_GOAL_SIZE, parallel_rows
from report import markdown, print_report
from serving import CONNECTIONS, PROJECT_APP, WARM_UP, serving_options, serving_rows
from usage import usage_rows
from verification import verification_rows

RESULTS = HERE / "RESULTS.md"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short run of each figure, to try the harness")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md as it is")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every figure, print them, and write RESULTS.md."""
    args = parse_args(argv)
    # Five cold runs of each verification, alternated: on a shared machine a median of three moved by a tenth.
    reps, seconds, sizes = (1, 2.0, (100,)) if args.quick else (5, 3.0, (100, 500))
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
        "parallel": lambda: parallel_rows(2, (50,) if args.quick else (150, PARALLEL_GOAL_SIZE), reps),
        "usage map": lambda: usage_rows(1 if args.quick else 5),
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
