from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote
from typing import Any

from attrs import evolve, frozen

from pipeline.pact_documents import interactions_of
from pipeline.server import LOOPBACK, free_port, running_server
from pipeline.settings import Settings, SettingsError
from pipeline.trust import system_trust_read_once

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from pact import Verifier  # noqa: E402  (the telemetry switch must be set before pact loads)

from states import create_verification_app  # noqa: E402


class VerificationError(Exception):
    """The verification could not run; the message is one line for a person."""


@frozen
class Interaction:
    """The verdict on one interaction of one pact."""

    consumer: str
    description: str
    states: tuple[str, ...]
    passed: bool
    pending: bool
    mismatch: str = ""


PUBLISH_FAILURE = re.compile(r"path '(?P<path>[^']+)' failed: (?P<answer>\d{3}[^.]*)")


class PublishWatch(logging.Handler):
    """Collects the verifier's errors about publishing, which it logs but does not raise."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "publish" not in message.lower():
            return
        found = PUBLISH_FAILURE.search(message)
        if found:
            message = f"the broker answered {found['answer']} to {unquote(found['path'])}"
        self.errors.append(message)


@frozen
class Outcome:
    """What one verification run found."""

    interactions: tuple[Interaction, ...]
    errors: tuple[str, ...] = ()
    refused_states: tuple[dict[str, Any], ...] = ()
    publish_errors: tuple[str, ...] = ()
    published: bool = False

    @property
    def failed(self) -> list[Interaction]:
        """Failed interactions that count: a pending pact's failures do not fail the build."""
        return [item for item in self.interactions if not item.passed and not item.pending]

    @property
    def ok(self) -> bool:
        """Whether the run passed: nothing failed, nothing broke, every result that was due got published."""
        return not (self.failed or self.errors or self.publish_errors) and bool(self.interactions)


def check_pact_file(path: Path) -> int:
    """Refuse a local pact that is missing or is not a pact document, in one line; else count its interactions."""
    if not path.is_file():
        raise VerificationError(f"pact file not found: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VerificationError(f"pact file {path} is not valid JSON: {error}") from None
    interactions = interactions_of(document)
    if interactions is None:
        raise VerificationError(f"pact file {path} is not a pact: it has no list of interactions")
    return len(interactions)


def local_pacts(settings: Settings) -> dict[str, int]:
    """The pact files to verify offline, each with its number of interactions: PACT_URL when it
    is a file, else every pact in the pact folder."""
    if settings.pact_url and "://" not in settings.pact_url:
        paths = [Path(settings.pact_url)]
    else:
        if not settings.pact_dir.is_dir():
            raise VerificationError(f"pact folder not found: {settings.pact_dir}")
        paths = sorted(settings.pact_dir.glob("*.json"))
        if not paths:
            raise VerificationError(f"no pact files (*.json) in {settings.pact_dir}")
    return {str(path): check_pact_file(path) for path in paths}


def _auth(settings: Settings) -> dict[str, str]:
    """The broker credentials as the verifier takes them."""
    if settings.broker_token:
        return {"token": settings.broker_token}
    if settings.broker_username:
        return {"username": settings.broker_username, "password": settings.broker_password or ""}
    return {}


def configure(verifier: Verifier, settings: Settings, publish: bool) -> Verifier:
    """Point the verifier at its pacts: one PACT_URL, the broker's selection, or local files."""
    if settings.pact_url and "://" in settings.pact_url:
        verifier.add_source(settings.pact_url, **_auth(settings))
    elif settings.has_broker and not settings.pact_url:
        selection = verifier.broker_source(settings.broker_url, selector=True, use_env=False, **_auth(settings))
        selection.consumer_version(main_branch=True).consumer_version(deployed_or_released=True)
        if settings.provider_branch:
            selection.consumer_version(matching_branch=True).provider_branch(settings.provider_branch)
        selection.include_pending().include_wip_since(settings.include_wip_since).build()
    else:
        for source in local_pacts(settings):
            verifier.add_source(source)
    if publish:
        verifier.set_publish_options(
            version=settings.provider_version, url=settings.build_url, branch=settings.provider_branch
        )
    return verifier


def describe_mismatch(mismatch: dict[str, Any] | None) -> str:
    """A verifier mismatch as one readable line."""
    if not mismatch:
        return ""
    if mismatch.get("type") == "mismatches":
        return "; ".join(str(item.get("mismatch", item)) for item in mismatch.get("mismatches", []))
    return str(mismatch.get("message", mismatch))


def _interactions(results: dict[str, Any]) -> tuple[Interaction, ...]:
    return tuple(
        Interaction(
            consumer=item.get("consumer", ""),
            description=item.get("description", ""),
            states=tuple(item.get("providerStates") or ()),
            passed=item.get("result") == "OK",
            pending=bool(item.get("pending")),
            mismatch=describe_mismatch(item.get("mismatch")),
        )
        for item in results.get("interactionResults", [])
    )


def _errors(results: dict[str, Any]) -> tuple[str, ...]:
    """The verifier's errors that belong to no interaction, such as a pact that could not be fetched."""
    of_interactions = [item.get("mismatch") for item in results.get("interactionResults", [])]
    return tuple(
        describe_mismatch(error.get("mismatch"))
        for error in results.get("errors", [])
        if error.get("mismatch") not in of_interactions
    )


def _verify_quietly(verifier: Verifier) -> None:
    try:
        verifier.verify()
    except RuntimeError:
        pass  # the verifier's results say what failed


def execute(verifier: Verifier, timeout: float) -> bool:
    """Run the verifier in a helper thread, so that Ctrl-C reaches this one; tell whether it finished in time."""
    worker = threading.Thread(target=_verify_quietly, args=(verifier,), name="verifier", daemon=True)
    worker.start()
    worker.join(timeout)
    return not worker.is_alive()


def run(settings: Settings, *, publish: bool = False, pending: bool = False) -> Outcome:
    """Serve the verification app on loopback and replay the pacts against it; `pending` marks
    a pact the broker sent as pending, whose failures do not fail the build."""
    app = create_verification_app()
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    verifier = Verifier(settings.provider_name, host=LOOPBACK).add_transport(url=base_url)
    verifier.set_coloured_output(enabled=sys.stdout.isatty())
    verifier.state_handler(base_url + app.state.states_path, teardown=True, body=True)
    configure(verifier, settings, publish)
    watch = PublishWatch()
    pact_logger = logging.getLogger("pact.ffi")
    pact_logger.addHandler(watch)
    try:
        with running_server(app, port=port):
            finished = execute(verifier, settings.verify_timeout)
    finally:
        pact_logger.removeHandler(watch)
    if not finished:
        late = f"the verification did not finish within {settings.verify_timeout} s (VERIFY_TIMEOUT); is the broker slow?"
        return Outcome(interactions=(), errors=(late,))
    results = verifier.results
    interactions = _interactions(results)
    return Outcome(
        interactions=tuple(evolve(item, pending=True) for item in interactions) if pending else interactions,
        errors=_errors(results),
        refused_states=tuple(app.state.provider_states.refused),
        publish_errors=tuple(watch.errors),
        published=publish and not watch.errors,
    )


def report(outcome: Outcome) -> str:
    """The closing summary: one line per interaction, then the verdict."""
    lines = ["", "Summary:"]
    for item in outcome.interactions:
        mark = "passed" if item.passed else ("failed (pending, not counted)" if item.pending else "FAILED")
        given = f" given {', '.join(item.states)}" if item.states else ""
        lines.append(f"  {mark:>6}  {item.consumer}: {item.description}{given}")
        if item.mismatch:
            lines.append(f"          {item.mismatch}")
    for refusal in outcome.refused_states:
        known = f"; known states: {'; '.join(refusal['known'])}" if "known" in refusal else ""
        lines.append(f"  provider state refused: {refusal['error']}{known}")
    lines.extend(f"  error: {error}" for error in outcome.errors)
    lines.extend(f"  publishing the results failed: {error}" for error in outcome.publish_errors)
    lines.append(verdict(outcome))
    return "\n".join(lines)


def verdict(outcome: Outcome) -> str:
    """The last line of a run: the counts, and the first reason when it failed."""
    passed = sum(item.passed for item in outcome.interactions)
    counts = f"{passed} passed, {len(outcome.interactions) - passed} failed"
    if outcome.ok:
        published = "; results published" if outcome.published else ""
        return f"verification passed: {counts}{published}"
    if outcome.errors:
        reason = outcome.errors[0]
    elif outcome.publish_errors:
        reason = f"the results were NOT published: {outcome.publish_errors[0]}"
    elif not outcome.interactions:
        reason = "no interactions were verified: the pacts were empty or not pact documents"
    else:
        reason = f"{len(outcome.failed)} interaction(s) failed"
    return f"verification FAILED ({counts}): {reason}"


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
        "--pact-dir", type=Path, help="verify the pacts in this folder, even with a broker configured; default: PACT_DIR or pacts/"
    )
    parser.add_argument(
        "--publish", action=argparse.BooleanOptionalAction, help="publish the results to the broker; default: PACT_BROKER_PUBLISH_VERIFICATION_RESULTS"
    )
    parser.add_argument(
        "--jobs", type=at_least_one, default=None, help="verify the pacts in up to this many processes; default: JOBS or the cores"
    )
    parser.add_argument("--pending", action="store_true", help="the pact is pending: its failures do not fail the run")
    return parser.parse_args(argv)


def verify_one(settings: Settings, *, publish: bool, pending: bool = False) -> int:
    """Verify in this process, print the summary, and answer the exit code."""
    outcome = run(settings, publish=publish, pending=pending)
    print(report(outcome))
    return 0 if outcome.ok else 1


def verify_in_workers(settings: Settings, jobs: int, publish: bool) -> int | None:
    """Verify the pacts in worker processes when there are several; None when one process is the better run."""
    # imported here: a one-process run, the common case, starts faster without them
    from pipeline.parallel import PactJob, verify_in_parallel, worker_count

    if settings.has_broker:
        from pipeline.broker import BrokerStepFailed, count_interactions, pacts_for_verification

        try:
            pacts = pacts_for_verification(settings)
        except BrokerStepFailed as error:
            raise VerificationError(str(error)) from None
        pact_jobs = [PactJob.from_broker(pact) for pact in pacts]
        workers = worker_count(jobs, len(pacts), count_interactions(settings, pacts) if len(pacts) > 1 else None)
    else:
        files = local_pacts(settings)
        pact_jobs = [PactJob.from_file(path) for path in files]
        workers = worker_count(jobs, len(files), sum(files.values()))
    return verify_in_parallel(pact_jobs, workers, settings, publish=publish) if workers > 1 else None


@system_trust_read_once()  # for this process and its workers
def main(argv: Sequence[str] | None = None) -> int:
    """Verify, print the result, and answer the exit code."""
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        settings = evolve(settings, pact_url=args.pact_url or settings.pact_url)
        if args.pact_dir:  # a folder named on the command line is verified as it is, broker or not
            settings = evolve(settings, pact_dir=args.pact_dir, broker_url=None)
        publish = settings.publish_results if args.publish is None else args.publish
        if publish and not (settings.has_broker or "://" in (settings.pact_url or "")):
            print("verify: results are not published: local pact files have no broker to publish to", file=sys.stderr)
            publish = False
        if publish and not settings.provider_version:
            raise VerificationError("cannot publish verification results without a provider version: set GIT_COMMIT")
        jobs = args.jobs or settings.jobs
        if jobs > 1 and not settings.pact_url:
            exit_code = verify_in_workers(settings, jobs, publish)
            if exit_code is not None:
                return exit_code
        return verify_one(settings, publish=publish, pending=args.pending)
    except (VerificationError, SettingsError) as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verify: interrupted; the provider was shut down", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
