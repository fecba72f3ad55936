"""A verification as a build step: choose the pacts, verify them, keep the JUnit report, show the result on GitHub."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.github import annotation, append_summary, markdown
from pipeline.settings import Settings, SettingsError
from pipeline.verification import junit
from pipeline.verification.outcome import PactResult, Verification
from pipeline.verification.output import safe_line
from pipeline.verification.pacts import VerificationError, choose
from pipeline.verification.plan import verify
from pipeline.verification.sources import BadPactSource
from pipeline.verification.summary import failure_annotations, job_summary

# What keeps a verification from starting: a bad pact source, a bad setting, a broker that cannot list the pacts.
NOT_STARTED = (VerificationError, BadPactSource, SettingsError)


def keep_report(path: Path, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """Write the JUnit report; a path that cannot take it is said in one line."""
    try:
        junit.write(path, pacts, problem)
    except OSError as error:
        print(safe_line(f"verify: the report could not be written to {path}: {error.strerror}"), file=sys.stderr)


def show_on_github(settings: Settings, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """On GitHub Actions: an annotation per failed interaction (or for the problem), and the job summary."""
    if not settings.github_actions:
        return
    notes = [annotation("error", "pact verification", problem)] if problem else failure_annotations(pacts)
    for note in notes:
        print(note, flush=True)
    append_summary(settings, f"- verification could not start: {markdown(problem)}" if problem else job_summary(pacts))


def not_started(settings: Settings, problem: str) -> None:
    """Say in one line why the verification could not start, and report it as the verification's result."""
    print(safe_line(f"verify: {problem}"), file=sys.stderr, flush=True)
    keep_report(settings.report_path, (), problem=problem)
    show_on_github(settings, (), problem=problem)


def verified(
    settings: Settings,
    *,
    pact_url: str | None = None,
    pact_dir: Path | None = None,
    publish: bool | None = None,
    jobs: int | None = None,
    pending: bool = False,
) -> Verification:
    """Verify the pacts chosen (PACT_URL, a folder, or the broker's), publishing when asked (default:
    PACT_BROKER_PUBLISH_VERIFICATION_RESULTS), and report the result; a problem that keeps the
    verification from starting is said and reported the same way, then raised."""
    try:
        pacts = choose(settings, pact_url=pact_url, pact_dir=pact_dir)
        publish = settings.publish_results if publish is None else publish
        verification = verify(settings, pacts, publish=publish, jobs=jobs or settings.jobs, pending=pending)
    except NOT_STARTED as error:
        not_started(settings, str(error))
        raise
    keep_report(settings.report_path, verification.pacts)
    show_on_github(settings, verification.pacts)
    return verification
