from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from attrs import frozen
from starlette.types import ASGIApp

from example_provider import openapi
from example_provider.app import app as production_app
from pipeline.server import running_server

CONTRACT = Path(openapi.__file__).with_name(openapi.DOCUMENT)
REPORT_DIR = Path(".provider-contract")
REPORT = "schemathesis-junit.xml"
EVENTS = "schemathesis-events.ndjson"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# The document's examples, boundary values, then generated requests; a few per operation, the same
# ones on every run (deterministic generation), so a build takes seconds and a failure reproduces.
PHASES = "examples,coverage,fuzzing"
EXAMPLES_PER_OPERATION = 10
TIMEOUT = 120.0


class SelfVerificationError(RuntimeError):
    """The self-verification could not run at all; the message is one line for a person."""


@frozen
class SelfVerification:
    """The outcome of testing the running service against its OpenAPI document with schemathesis."""

    exit_code: int
    report: Path
    output: str
    first_failure: str | None
    verifier_version: str
    content_type: str = "application/xml"
    report_format: str = "junit"

    @property
    def success(self) -> bool:
        """Whether the service answered every request as its document describes."""
        return self.exit_code == 0


def self_verify(app: ASGIApp | None = None, report_dir: Path = REPORT_DIR, *, timeout: float = TIMEOUT) -> SelfVerification:
    """Serve the production app (or `app`) on loopback and test every operation of openapi.yaml against it."""
    report_dir.mkdir(parents=True, exist_ok=True)
    report, events = (report_dir / REPORT).resolve(), (report_dir / EVENTS).resolve()
    for stale in (report, events):
        stale.unlink(missing_ok=True)
    with running_server(app or production_app, log_level="error") as url:  # schemathesis' probes send requests uvicorn warns about
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", str(CONTRACT),
            "--url", url,
            "--checks", ",".join(CHECKS),
            "--phases", PHASES,
            "--max-examples", str(EXAMPLES_PER_OPERATION),
            "--generation-deterministic",
            "--request-timeout", "10",
            "--report", "junit,ndjson",
            "--report-junit-path", str(report),
            "--report-ndjson-path", str(events),
            "--no-color",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, cwd=report_dir, env=_environment(), capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise SelfVerificationError(f"the self-verification did not finish within {timeout:.0f} s") from None
    output = (done.stdout + done.stderr).strip()
    if not report.exists():
        last = output.splitlines()[-1] if output else "no output"
        raise SelfVerificationError(f"schemathesis wrote no report (exit code {done.returncode}): {last}")
    first = None if done.returncode == 0 else first_failed_check(events) or f"schemathesis exited with {done.returncode}"
    return SelfVerification(done.returncode, report, output, first, version("schemathesis"))


def first_failed_check(events: Path) -> str | None:
    """The first check that failed, as "check on OPERATION: CODE title", from schemathesis' event log."""
    try:
        lines = events.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            scenario: Any = json.loads(line).get("ScenarioFinished")
            for checks in (scenario or {}).get("recorder", {}).get("checks", {}).values():
                for check in checks:
                    if check.get("status") == "failure":
                        failure = check.get("failure_info", {}).get("failure", {})
                        return f"{check['name']} on {failure.get('operation')}: {failure.get('code')} {failure.get('title')}"
        except (ValueError, AttributeError, KeyError, TypeError):
            continue
    return None


def _environment() -> dict[str, str]:
    """The environment for schemathesis: no broker credentials, which it has no use for."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PACT_BROKER_")}
