"""How much the proofs try: PROOFS_BUDGET=quick (the default, what `make test` runs) or full (`make proofs`).

The one place the budget is read. A proof sizes what it generates with `sized(quick, full)`; a case
that only repeats, at length, what a quick case already proves is marked `full_budget` and runs
only at the full budget.
"""

from __future__ import annotations

import os

import pytest

BUDGETS = ("quick", "full")
BUDGET = os.environ.get("PROOFS_BUDGET", "").strip() or "quick"
full_budget = pytest.mark.full_budget


def check_budget() -> None:
    """Refuse a budget that is neither quick nor full, in one line."""
    if BUDGET not in BUDGETS:
        raise pytest.UsageError(f"PROOFS_BUDGET must be quick or full, not {BUDGET!r}")


def sized(quick: int, full: int) -> int:
    """The quick or the full amount of what a proof tries, by the budget."""
    return full if BUDGET == "full" else quick
