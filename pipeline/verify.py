from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from urllib.parse import unquote
from typing import TYPE_CHECKING, Any

from attrs import evolve

from pipeline.pact_sources import PUBLISH_LINK, BadPactSource, PactSource, credentials, read_pact_source
from pipeline.server import LOOPBACK, free_port, running_server
from pipeline.settings import Settings, SettingsError
from pipeline.summary import NOT_SUPPORTED, Interaction, Outcome, report
from pipeline.verifier_output import filtered_output, safe_line

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from pact import Verifier  # noqa: E402  (the telemetry switch must be set before pact loads)

from states import create_verification_app  # noqa: E402

if TYPE_CHECKING:  # the broker's HTTP client loads only for a broker run
    from pipeline.broker import PactForVerification


class VerificationError(Exception):
    """The verification could not run; the message is one line for a person."""


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


def pact_sources(settings: Settings) -> list[PactSource]:
    """The pacts to verify by file or URL, checked: PACT_URL, else (without a broker) every pact in the
    pact folder; none means the broker's selection."""
    if settings.pact_url:
        return [read_pact_source(settings.pact_url, settings)]
    if settings.has_broker:
        return []
    if not settings.pact_dir.is_dir():
        raise VerificationError(f"pact folder not found: {settings.pact_dir}")
    paths = sorted(settings.pact_dir.glob("*.json"))
    if not paths:
        raise VerificationError(f"no pact files (*.json) in {settings.pact_dir}")
    return [read_pact_source(str(path), settings) for path in paths]


def broker_pacts(settings: Settings) -> list[PactForVerification]:
    """The broker's pacts for verification, asked for before any verifier runs, so that a broker
    fault reads the same in one process and in several."""
    from pipeline.broker import BrokerStepFailed, pacts_for_verification

    try:
        return pacts_for_verification(settings)
    except BrokerStepFailed as error:
        raise VerificationError(str(error)) from None


def configure(verifier: Verifier, settings: Settings, sources: Sequence[PactSource], publish: bool) -> Verifier:
    """Point the verifier at its pacts: the checked sources, or else the broker's selection."""
    if sources:
        for source in sources:
            verifier.add_source(source.location, **credentials(source.location, settings))
    else:
        auth = credentials(str(settings.broker_url), settings)
        selection = verifier.broker_source(settings.broker_url, selector=True, use_env=False, **auth)
        selection.consumer_version(main_branch=True).consumer_version(deployed_or_released=True)
        if settings.provider_branch:
            selection.consumer_version(matching_branch=True).provider_branch(settings.provider_branch)
        selection.include_pending().include_wip_since(settings.include_wip_since).build()
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


def _interactions(results: dict[str, Any], messages: Collection[str], pending: bool) -> tuple[Interaction, ...]:
    """The verifier's interaction results; a message interaction fails as not supported."""
    return tuple(
        Interaction(
            consumer=item.get("consumer", ""),
            description=item.get("description", ""),
            states=tuple(item.get("providerStates") or ()),
            passed=item.get("result") == "OK" and item.get("description") not in messages,
            pending=pending or bool(item.get("pending")),
            mismatch=NOT_SUPPORTED if item.get("description") in messages else describe_mismatch(item.get("mismatch")),
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


def run(settings: Settings, sources: Sequence[PactSource], *, publish: bool = False, pending: bool = False) -> Outcome:
    """Serve the verification app on loopback and replay the pacts against it; `pending` marks
    a pact the broker sent as pending, whose failures do not fail the build."""
    app = create_verification_app()
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    verifier = Verifier(settings.provider_name, host=LOOPBACK).add_transport(url=base_url)
    verifier.set_coloured_output(enabled=False)  # its output is filtered: a colour code would be escaped
    verifier.state_handler(base_url + app.state.states_path, teardown=True, body=True)
    no_link = [f"{source.label} is not a broker pact (it has no {PUBLISH_LINK} link)" for source in sources if not source.takes_results]
    configure(verifier, settings, sources, publish and not no_link)
    watch = PublishWatch()
    pact_logger = logging.getLogger("pact.ffi")
    pact_logger.addHandler(watch)
    try:
        with filtered_output() as output, running_server(app, port=port):
            finished = execute(verifier, settings.verify_timeout)
    finally:
        pact_logger.removeHandler(watch)
    if not finished:
        late = f"the verification did not finish within {settings.verify_timeout} s (VERIFY_TIMEOUT); is the broker slow?"
        return Outcome(interactions=(), errors=(late,))
    results = verifier.results
    messages = {message for source in sources for message in source.messages}
    unread = [f"the verifier could not read the pact {', '.join(s.label for s in sources) or 'from the broker'}"]
    publish_errors = (*watch.errors, *(no_link if publish else ()))
    interactions = _interactions(results, messages, pending)
    return Outcome(
        interactions=interactions,
        errors=(*(unread if output.panicked else ()), *_errors(results)),
        refused_states=tuple(app.state.provider_states.refused),
        publish_errors=publish_errors,
        published=publish and not publish_errors and bool(interactions),
    )


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


def verify_one(settings: Settings, sources: Sequence[PactSource], *, publish: bool, pending: bool = False) -> Outcome:
    """Verify in this process and print the summary; a pact for another provider is verified, and said so."""
    for source in sources:
        if source.provider != settings.provider_name:
            print(safe_line(f"verify: the pact {source.label} is for the provider {source.provider!r}, "
                            f"not {settings.provider_name!r}; verifying it anyway"), flush=True)  # fmt: skip
    outcome = run(settings, sources, publish=publish, pending=pending)
    print(report(outcome), flush=True)
    return outcome


def verify_in_workers(
    settings: Settings, jobs: int, publish: bool, pacts: list[PactForVerification] | None, sources: Sequence[PactSource]
) -> int | None:
    """Verify the pacts (the broker's, else the files) in worker processes when there are several;
    None when one process is the better run."""
    # imported here: a one-process run, the common case, starts faster without them
    from pipeline.parallel import PactJob, verify_in_parallel, worker_count

    if pacts is not None:
        from pipeline.broker import count_interactions

        pact_jobs = [PactJob.from_broker(pact) for pact in pacts]
        workers = worker_count(jobs, len(pacts), count_interactions(settings, pacts) if len(pacts) > 1 else None)
    else:
        pact_jobs = [PactJob.from_file(source.location) for source in sources]
        workers = worker_count(jobs, len(sources), sum(source.interactions for source in sources))
    return verify_in_parallel(pact_jobs, workers, settings, publish=publish) if workers > 1 else None


def main(argv: Sequence[str] | None = None) -> int:
    """Verify, print the result, and answer the exit code."""
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
        settings = evolve(settings, pact_url=args.pact_url or settings.pact_url)
        if args.pact_dir:  # a folder named on the command line is verified as it is, broker or not
            settings = evolve(settings, pact_dir=args.pact_dir, broker_url=None)
        publish = settings.publish_results if args.publish is None else args.publish
        sources = pact_sources(settings)
        if publish and sources and not any(source.remote for source in sources):
            print("verify: results are not published: local pact files have no broker to publish to", file=sys.stderr)
            publish = False
        if publish and not settings.provider_version:
            raise VerificationError("cannot publish verification results without a provider version: set GIT_COMMIT")
        pacts = broker_pacts(settings) if not sources else None
        jobs = args.jobs or settings.jobs
        if jobs > 1 and not settings.pact_url:
            exit_code = verify_in_workers(settings, jobs, publish, pacts, sources)
            if exit_code is not None:
                return exit_code
        return 0 if verify_one(settings, sources, publish=publish, pending=args.pending).ok else 1
    except (VerificationError, BadPactSource, SettingsError) as error:
        print(safe_line(f"verify: {error}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verify: interrupted; the provider was shut down", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
