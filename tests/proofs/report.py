"""The proofs report: rows the proofs append as JSON lines, printed as one plain-text table.

Run as `python -m tests.proofs.report FILE` or `python tests/proofs/report.py FILE`.
Exits 1 when the file is missing, empty or unreadable, or when a proof did not pass.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADERS = ("proof", "tried", "outcome")
PASSING = frozenset({"passed", "skipped", "xfailed"})


@dataclass
class Proof:
    """What one proof tried, counted as it goes, and a note on what it found."""

    name: str
    tried: dict[str, int] = field(default_factory=dict)
    detail: str = ""

    def count(self, what: str, amount: int = 1) -> None:
        """Add to one count of what the proof tried."""
        self.tried[what] = self.tried.get(what, 0) + amount


class UnreadableReport(ValueError):
    """The report file holds a line that is not a proof row."""


def append_row(path: Path, row: Mapping[str, Any]) -> None:
    """Append one proof row to the report as a JSON line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as report:
        report.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The proof rows of a report file, in the order they were written."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise UnreadableReport(f"{path}:{number} is not JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("proof"), str):
            raise UnreadableReport(f"{path}:{number} is not a proof row")
        rows.append(row)
    return rows


def describe_tried(tried: Mapping[str, Any]) -> str:
    """Counts such as {"requests": 1200} as "1,200 requests"."""
    return ", ".join(f"{count:,} {what}" for what, count in tried.items()) or "-"


def describe_outcome(row: Mapping[str, Any]) -> str:
    """The outcome of a row, its time and what it found."""
    text = str(row.get("outcome", "unknown"))
    if isinstance(row.get("seconds"), int | float):
        text += f" in {row['seconds']:.1f} s"
    if row.get("detail"):
        text += f": {row['detail']}"
    return text


def table(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as one plain-text table: proof | tried | outcome."""
    cells = [(str(row["proof"]), describe_tried(row.get("tried") or {}), describe_outcome(row)) for row in rows]
    widths = [max(len(line[column]) for line in [HEADERS, *cells]) for column in range(len(HEADERS))]
    lines = [_line(HEADERS, widths), "-+-".join("-" * width for width in widths)]
    lines += [_line(line, widths) for line in cells]
    return "\n".join(line.rstrip() for line in lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One table line, each cell padded to its column's width."""
    return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report of FILE; 1 when it is missing, empty or unreadable, or a proof failed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m tests.proofs.report FILE", file=sys.stderr)
        return 2
    path = Path(args[0])
    if not path.is_file():
        print(f"no proofs report at {path}", file=sys.stderr)
        return 1
    try:
        rows = read_rows(path)
    except (UnreadableReport, UnicodeDecodeError) as error:
        print(f"unreadable proofs report: {error}", file=sys.stderr)
        return 1
    if not rows:
        print(f"the proofs report {path} is empty", file=sys.stderr)
        return 1
    print(f"budget: {', '.join(sorted({str(row.get('budget', 'unknown')) for row in rows}))}")
    print(table(sorted(rows, key=lambda row: str(row["proof"]))))  # parallel runs write them in any order
    failed = [row["proof"] for row in rows if row.get("outcome") not in PASSING]
    if failed:
        print(f"\n{len(failed)} of {len(rows)} proofs did not pass", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
