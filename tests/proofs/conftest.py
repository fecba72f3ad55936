from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import core as hypothesis_core
from hypothesis.vendor.pretty import RepresentationPrinter
from schemathesis.generation.hypothesis import setup as schemathesis_setup

from example_provider.app import app as production_app
from pipeline.server import running_server

from .budget import BUDGET
from .report import Proof, append_row

# Schemathesis swaps Hypothesis' printer, once per process, for one that prints nothing, which blanks
# every failing example of every property test; let it patch now, then put the printer back.
schemathesis_setup()
hypothesis_core.RepresentationPrinter = RepresentationPrinter  # type: ignore[misc]

# Resolved now, before any test moves the working directory.
REPORT: Path | None = Path(os.environ["PROOFS_REPORT"]).resolve() if os.environ.get("PROOFS_REPORT") else None
CALL_REPORT = pytest.StashKey[pytest.TestReport]()
SETUP_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """At the quick budget, leave out the cases marked to run only at the full budget."""
    if BUDGET == "full":
        return
    full_only = [item for item in items if item.get_closest_marker("full_budget")]
    if full_only:
        config.hook.pytest_deselected(items=full_only)
        items[:] = [item for item in items if not item.get_closest_marker("full_budget")]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the setup and call reports on the item, so the `proof` fixture knows the outcome."""
    report = yield
    if report.when == "setup":
        item.stash[SETUP_REPORT] = report
    elif report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


def _outcome(item: pytest.Item) -> tuple[str, float | None, str]:
    """The outcome of a test, its call's duration, and why it failed or was skipped."""
    report = item.stash.get(CALL_REPORT, None) or item.stash.get(SETUP_REPORT, None)
    if report is None:
        return "error", None, "no report"
    seconds = report.duration if report.when == "call" else None
    if report.skipped and hasattr(report, "wasxfail"):
        return "xfailed", seconds, str(report.wasxfail)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return "skipped", seconds, str(reason)
    if report.passed:
        return "passed", seconds, ""
    crash = getattr(report.longrepr, "reprcrash", None)
    failure = crash.message if crash is not None else str(report.longrepr or "")
    return ("failed" if report.when == "call" else "error"), seconds, (failure.splitlines() or [""])[0][:160]


@pytest.fixture(autouse=True)
def proof(request: pytest.FixtureRequest) -> Iterator[Proof]:
    """The row each proof adds to the report named by PROOFS_REPORT (nothing is written without it)."""
    record = Proof(name=f"{request.node.path.name}::{request.node.name}")
    yield record
    if REPORT is None:
        return
    outcome, seconds, failure = _outcome(request.node)
    row: dict[str, object] = {
        "proof": record.name,
        "budget": BUDGET,
        "tried": record.tried,
        "outcome": outcome,
        "detail": failure or record.detail,
    }
    if seconds is not None:
        row["seconds"] = round(seconds, 3)
    append_row(REPORT, row)


@pytest.fixture(scope="module")
def production_url() -> Iterator[str]:
    """The base URL of a real uvicorn server of the production app, one per module."""
    with running_server(production_app) as url:
        yield url
