"""The command line of a verification: `python -m pipeline.verify` (`make verify`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from attrs import evolve

from pipeline import PipelineError, interruption, leave, stopped_by_sigterm
from pipeline.junit import discard, write_verification
from pipeline.output import printable, safe_line
from pipeline.pacts import Pact, local_pacts, read_pact, scheme_of
from pipeline.results import PactResult, Verification
from pipeline.settings import REPORT, Settings, SettingsError, read_environment
from pipeline.trust import system_trust_read_once
from pipeline.verifier import verify_here


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return int(text)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.verify", description="Verify the provider against its consumers' pacts."
    )
    parser.add_argument("--pact-url", help="verify only this pact (a file or an http(s) URL); default: PACT_URL")
    parser.add_argument(
        "--pact-dir", type=Path, help="verify the pacts in this folder, even with a broker; default: PACT_DIR or pacts/"
    )
    parser.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        help="publish the results to the broker; default: PACT_BROKER_PUBLISH_VERIFICATION_RESULTS",
    )
    parser.add_argument(
        "--jobs", type=at_least_one, help="verify in up to this many processes; default: JOBS or the cores"
    )
    parser.add_argument("--pending", action="store_true", help="the pact is pending: its failures do not fail the run")
    return parser.parse_args(argv)


def chosen(settings: Settings, args: argparse.Namespace, deadline: float) -> tuple[list[Pact], bool]:
    """The pacts to verify, read and checked (a pact URL, else a folder given, else the broker's selection when
    there is a broker, else PACT_DIR), and whether their results are published."""
    publish = settings.publish_results if args.publish is None else args.publish
    pacts: list[Pact] | None = None
    url = args.pact_url or settings.pact_url
    if url and scheme_of(url) in ("http", "https"):
        from pipeline.broker import fetch_pact  # the HTTP client loads only for a pact over HTTP

        pacts = [fetch_pact(url, settings, deadline)]
    elif url:
        pacts = [read_pact(url)]
    elif args.pact_dir or not settings.has_broker:
        pacts = local_pacts(args.pact_dir or settings.pact_dir)
    if pacts is not None:
        pacts = [evolve(pact, pending=args.pending) for pact in pacts]
        if publish and not any(pact.remote for pact in pacts):
            print("verify: results are not published: local pact files have no broker to publish to", file=sys.stderr)
            publish = False
    if publish and not settings.provider_version:
        raise PipelineError("cannot publish verification results without a provider version: set GIT_COMMIT")
    if pacts is None:
        from pipeline.broker import broker_pacts  # the HTTP client loads only for the broker's pacts

        pacts = broker_pacts(settings, deadline)
    return pacts, publish


def report(settings: Settings | None, path: Path, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """Keep the JUnit report (a path that cannot take it is said in one line), and show the result on GitHub."""
    try:
        write_verification(path, pacts, problem)
    except (OSError, PipelineError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        print(safe_line(f"verify: the report could not be written to {printable(path)}: {reason}"), file=sys.stderr)
    if settings is not None and settings.github_actions:
        from pipeline.github import show_verification  # only a build on GitHub Actions shows it there

        show_verification(settings, pacts, problem)


def verified(settings: Settings, args: argparse.Namespace) -> Verification:
    """Verify the pacts chosen, in this process or in workers, and report the result; a problem that keeps
    the verification from starting is said and reported the same way, then raised."""
    try:
        discard(settings.report_path)  # an earlier run's report is never taken for this one's
    except PipelineError as error:  # a path that cannot take a report: said once, nothing verified
        print(safe_line(f"verify: {error}"), file=sys.stderr, flush=True)
        raise
    try:
        deadline = time.monotonic() + settings.verify_timeout
        pacts, publish = chosen(settings, args, deadline)
        jobs = args.jobs or settings.jobs
        if jobs > 1:
            from pipeline.workers import verify_in_workers  # only a run of more than one job may need processes

            verification = verify_in_workers(settings, pacts, jobs, publish=publish, deadline=deadline)
        else:
            verification = verify_here(settings, pacts, publish=publish, deadline=deadline)
    except PipelineError as error:
        print(safe_line(f"verify: {error}"), file=sys.stderr, flush=True)
        report(settings, settings.report_path, (), problem=str(error))
        raise
    report(settings, settings.report_path, verification.pacts)
    return verification


def report_path() -> Path:
    """Where the report goes, read alone: a verification whose other settings cannot be used still leaves one."""
    try:
        given = read_environment().get("PACT_VERIFICATION_REPORT")
    except SettingsError:  # another value it cannot use: this one is read from the environment alone
        given = os.environ.get("PACT_VERIFICATION_REPORT")
    return Path(given) if given and given.isprintable() else REPORT


@system_trust_read_once()  # for this process and its workers
def main(argv: Sequence[str] | None = None) -> int:
    """Verify, print the result, write the report, and answer the exit code."""
    args = parse_args(argv)
    try:
        with stopped_by_sigterm():
            return verified(Settings.from_env(), args).exit_code
    except SettingsError as error:
        print(safe_line(f"verify: {error}"), file=sys.stderr, flush=True)
        report(None, report_path(), (), problem=str(error))
        return error.exit_code
    except PipelineError:
        return 2  # the verification did not start: said and reported
    except KeyboardInterrupt as stop:
        word, code = interruption(stop)
        print(f"verify: {word}; the provider was shut down", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(leave(main()))
