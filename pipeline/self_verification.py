from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import requests
import schemathesis
from attrs import define, field, frozen
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Err
from starlette.types import ASGIApp

from example_provider import app as service
from example_provider.app import app as production_app
from pipeline import PipelineError, junit
from pipeline.junit import Case, Suite
from pipeline.server import ServerDidNotStart, running_server
from pipeline.settings import CONTRACT_EXAMPLES

CONTRACT = Path(service.__file__).with_name(service.DOCUMENT)
REPORT = Path(".provider-contract") / "schemathesis-junit.xml"
# Hypothesis builds Unicode tables for generated strings (seconds of CPU) and keeps them in its home,
# by default in the working directory: keep them in the checkout's .hypothesis, built once.
HYPOTHESIS_HOME = Path(__file__).resolve().parent.parent / ".hypothesis"
CHECKS: tuple[Callable[..., Any], ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
# Per operation: the document's own examples, then generated requests (PACT_PROVIDER_CONTRACT_EXAMPLES);
# derandomized, so every run sends the same requests, takes about a second, and a failure reproduces.
RUN = settings(  # each run takes its max_examples from `self_verify`
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is the one reported
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    verbosity=Verbosity.quiet,
)


class SelfVerificationError(PipelineError):
    """The self-verification could not run at all; the message is one line for a person."""


@define
class OperationRun:
    """What the self-verification sent to one operation and what the first failure was, if any."""

    label: str
    statuses: Counter[int] = field(factory=Counter)
    seconds: float = 0.0
    failed_check: str | None = None
    failure: str | None = None
    details: str = ""

    @property
    def summary(self) -> str:
        """Passed or failed, and how many requests, by the status they were answered with."""
        answered = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        sent = self.statuses.total()
        verdict = "passed" if self.failed_check is None else f"FAILED {self.failed_check}: {self.failure}"
        return f"{verdict}, {sent} request{'' if sent == 1 else 's'} ({answered or 'none answered'})"


@frozen
class SelfVerification:
    """The outcome of testing the running service against its OpenAPI document, and its report."""

    operations: tuple[OperationRun, ...]
    report: Path
    verifier_version: str
    examples: int = CONTRACT_EXAMPLES  # generated requests per operation, at most
    content_type: str = "application/xml"
    report_format: str = "junit"

    @property
    def success(self) -> bool:
        """Whether every operation answered every request as the document describes."""
        return all(run.failed_check is None for run in self.operations)

    @property
    def exit_code(self) -> int:
        """The exit code of the verification, as the `pact` CLI takes it."""
        return 0 if self.success else 1

    @property
    def first_failure(self) -> str | None:
        """The first check that failed, as "check on OPERATION: CODE title"."""
        failed = next((run for run in self.operations if run.failed_check is not None), None)
        return None if failed is None else f"{failed.failed_check} on {failed.label}: {failed.failure}"


def self_verify(
    app: ASGIApp | None = None,
    report: Path = REPORT,
    contract: Path = CONTRACT,
    examples: int = CONTRACT_EXAMPLES,
) -> SelfVerification:
    """Serve the production app (or `app`) on loopback, test every operation of openapi.yaml (or `contract`)
    against it with schemathesis (its examples, then up to `examples` generated requests), and write a JUnit report."""
    set_hypothesis_home_dir(HYPOTHESIS_HOME)
    schema, operations = _load(contract)
    run = settings(RUN, max_examples=examples)
    try:
        with running_server(app or production_app) as url, requests.Session() as session:
            runs = tuple(_verify_operation(schema, operation, url, session, run) for operation in operations)
    except ServerDidNotStart as error:
        raise SelfVerificationError(str(error)) from None
    outcome = SelfVerification(runs, report.resolve(), version("schemathesis"), examples)
    write_report(outcome)
    return outcome


def _load(contract: Path) -> tuple[Any, list[Any]]:
    """The document as schemathesis reads it (its own defaults, not a schemathesis.toml), and its operations."""
    try:
        schema = schemathesis.openapi.from_path(contract, config=SchemathesisConfig())
        operations = []
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operations.append(result.ok())
        return schema, operations
    except Exception as error:
        reason = (str(error).strip().splitlines() or [""])[0]
        raise SelfVerificationError(f"{contract.name} cannot be tested: {type(error).__name__}: {reason}") from None


def _verify_operation(
    schema: Any, operation: Any, url: str, session: requests.Session, run_settings: settings
) -> OperationRun:
    """Send the operation's examples and generated requests; stop at the first check that fails."""
    run = OperationRun(operation.label)

    def check(case: Any) -> None:
        response = case.call(base_url=url, session=session, timeout=10)
        run.statuses[response.status_code] += 1
        for conformance in CHECKS:
            try:
                case.validate_response(response, checks=[conformance])
            except (Exception, BaseExceptionGroup) as error:  # schemathesis raises a group of failures
                if run.failed_check is None:
                    _record(run, conformance.__name__, error, case)
                raise

    started = time.monotonic()
    for strategy in [*schema.get_strategies_from_examples(operation), operation.as_strategy()]:
        try:
            run_settings(given(case=strategy)(check))()
        except (Exception, BaseExceptionGroup) as error:  # a check's failure is already recorded by `check`
            if run.failed_check is None:  # no answer, or the run itself broke: a failure too, never a pass
                run.failed_check = "no answer" if isinstance(error, requests.RequestException) else "error"
                run.failure = run.details = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        if run.failed_check is not None:
            break
    run.seconds = time.monotonic() - started
    return run


def _record(run: OperationRun, check: str, error: BaseException, case: Any) -> None:
    failures = list(error.exceptions) if isinstance(error, BaseExceptionGroup) else [error]
    first = failures[0]
    run.failed_check = check
    run.failure = f"{getattr(first, 'code', type(first).__name__)} {getattr(first, 'title', '')}".strip()
    message = str(getattr(first, "message", "") or first)
    run.details = f"{run.failure}\n\n{message}\n\nrequest: {case.method} {case.formatted_path}"


def write_report(outcome: SelfVerification) -> None:
    """The run as JUnit XML: one test case per operation, a failure naming the check that failed."""
    cases = tuple(
        Case(
            CONTRACT.name,
            run.label,
            run.seconds,
            kind=None if run.failed_check is None else "failure",
            message=f"{run.failed_check}: {run.failure}",
            text=run.details,
            output=run.summary,
            type=run.failed_check or "",
        )
        for run in outcome.operations
    )
    properties = (
        ("verifier", f"schemathesis {outcome.verifier_version}"),
        ("checks", ", ".join(check.__name__ for check in CHECKS)),
        ("examples per operation", f"{outcome.examples}, derandomized"),
    )
    seconds = sum(run.seconds for run in outcome.operations)
    junit.write(
        outcome.report,
        f"schemathesis: {CONTRACT.name}",
        [Suite(f"schemathesis: {CONTRACT.name}", cases, properties, seconds)],
    )
