"""The command line of a verification: `python -m pipeline.verify` (`make verify`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.settings import Settings, SettingsError, one_setting
from pipeline.verification import junit
from pipeline.verification.output import safe_line
from pipeline.verification.session import NOT_STARTED, keep_report, verified
from pipeline.verification.trust import system_trust_read_once


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return int(text)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.verify", description="Verify the provider against its consumers' pacts."
    )
    parser.add_argument("--pact-url", help="verify only this pact (a file or an http(s) URL); default: PACT_URL")
    parser.add_argument(
        "--pact-dir",
        type=Path,
        help="verify the pacts in this folder, even with a broker configured; default: PACT_DIR or pacts/",
    )
    parser.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        help="publish the results to the broker; default: PACT_BROKER_PUBLISH_VERIFICATION_RESULTS",
    )
    parser.add_argument(
        "--jobs",
        type=at_least_one,
        default=None,
        help="verify the pacts in up to this many processes; default: JOBS or the cores",
    )
    parser.add_argument("--pending", action="store_true", help="the pact is pending: its failures do not fail the run")
    return parser.parse_args(argv)


@system_trust_read_once()  # for this process and its workers
def main(argv: Sequence[str] | None = None) -> int:
    """Verify, print the result, write the report, and answer the exit code."""
    args = parse_args(argv)
    report = one_setting("report_path")
    try:
        junit.discard(report)  # an earlier run's report is never taken for this one's
    except OSError as error:
        print(safe_line(f"verify: the old report {report} could not be removed: {error.strerror}"), file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(safe_line(f"verify: {error}"), file=sys.stderr)
        keep_report(report, (), problem=str(error))
        return 2
    try:
        verification = verified(
            settings,
            pact_url=args.pact_url,
            pact_dir=args.pact_dir,
            publish=args.publish,
            jobs=args.jobs,
            pending=args.pending,
        )
    except NOT_STARTED:
        return 2  # said and reported
    except KeyboardInterrupt:
        print("verify: interrupted; the provider was shut down", file=sys.stderr)
        return 130
    return verification.exit_code


if __name__ == "__main__":
    sys.exit(main())
