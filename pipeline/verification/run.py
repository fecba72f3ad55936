"""Verifier runs: serve the verification app, point a verifier at each pact in turn, and answer what it found."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pipeline.server import LOOPBACK, running_server
from pipeline.settings import Settings
from pipeline.verification import results
from pipeline.verification.outcome import Outcome
from pipeline.verification.output import filtered_output, safe_line
from pipeline.verification.report import report
from pipeline.verification.sources import PUBLISH_LINK, PactSource, credentials
from states import create_verification_app

if TYPE_CHECKING:
    from starlette.applications import Starlette

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from pact import Verifier

PUBLISH_FAILURE = re.compile(r"path '(?P<path>[^']+)' failed: (?P<answer>\d{3}[^.]*)")
LATE = "the verification did not finish within {timeout} s (VERIFY_TIMEOUT); is the broker slow?"
NOT_REACHED = "not verified: the time for the verification (VERIFY_TIMEOUT) ran out before this pact"

# One pact to verify: the checked source, and whether it is pending (its failures do not fail the build).
ToVerify = tuple[PactSource, bool]


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


def configure(verifier: Verifier, settings: Settings, source: PactSource, publish: bool) -> Verifier:
    """Point the verifier at its pact, with the broker's credentials only on the broker's origin."""
    verifier.add_source(source.location, **credentials(source.location, settings))
    if publish:
        verifier.set_publish_options(
            version=str(settings.provider_version), url=settings.build_url, branch=settings.provider_branch
        )
    return verifier


def _verify_quietly(verifier: Verifier) -> None:
    with contextlib.suppress(RuntimeError):  # the verifier's results say what failed
        verifier.verify()


def execute(verifier: Verifier, timeout: float) -> bool:
    """Run the verifier in a helper thread, so that Ctrl-C reaches this one; tell whether it finished in time."""
    worker = threading.Thread(target=_verify_quietly, args=(verifier,), name="verifier", daemon=True)
    worker.start()
    worker.join(timeout)
    return not worker.is_alive()


def run_one(
    app: Starlette, base_url: str, settings: Settings, pact: ToVerify, publish: bool, timeout: float
) -> Outcome:
    """Replay one pact against the app served at `base_url`, and answer what the verifier found."""
    source, pending = pact
    verifier = Verifier(settings.provider_name, host=LOOPBACK).add_transport(url=base_url)
    verifier.set_coloured_output(enabled=False)  # its output is filtered: a colour code would be escaped
    verifier.state_handler(base_url + app.state.states_path, teardown=True, body=True)
    no_link = [] if source.takes_results else [f"{source.label} is not a broker pact (it has no {PUBLISH_LINK} link)"]
    configure(verifier, settings, source, publish and not no_link)
    watch = PublishWatch()
    pact_logger = logging.getLogger("pact.ffi")
    pact_logger.addHandler(watch)
    refused_before = len(app.state.provider_states.refused)
    started = time.monotonic()
    try:
        with filtered_output(settings.scrub) as output:
            finished = execute(verifier, timeout)
    finally:
        pact_logger.removeHandler(watch)
    took = time.monotonic() - started
    if not finished:
        return Outcome(interactions=(), errors=(LATE.format(timeout=settings.verify_timeout),), seconds=took)
    refused = tuple(app.state.provider_states.refused[refused_before:])
    publish_errors = (*watch.errors, *(no_link if publish else ()))
    found = results.interactions(verifier.results, source.messages, pending, refused)
    return Outcome(
        interactions=found,
        errors=(
            *([f"the verifier could not read the pact {source.label}"] if output.panicked else ()),
            *results.errors(verifier.results),
        ),
        refused_states=refused,
        publish_errors=publish_errors,
        published=publish and not publish_errors and bool(found),
        seconds=took,
    )


def run(settings: Settings, pacts: Sequence[ToVerify], *, publish: bool = False) -> list[Outcome]:
    """Serve the verification app on loopback and replay each pact against it with a verifier of its own,
    one after the other, within VERIFY_TIMEOUT for them all."""
    app = create_verification_app()
    deadline = time.monotonic() + settings.verify_timeout
    outcomes: list[Outcome] = []
    with running_server(app) as base_url:
        for pact in pacts:
            left = deadline - time.monotonic()
            if left <= 0:  # a run that did not finish in time took all that was left
                outcomes.append(Outcome(interactions=(), errors=(NOT_REACHED,)))
                continue
            outcomes.append(run_one(app, base_url, settings, pact, publish, left))
    return outcomes


def announce(settings: Settings, pacts: Sequence[ToVerify]) -> None:
    """Say which pacts are for another provider: they are verified all the same."""
    for source, _ in pacts:
        if source.provider != settings.provider_name:
            other = f"the provider {source.provider!r}, not {settings.provider_name!r}"
            print(safe_line(f"verify: the pact {source.label} is for {other}; verifying it anyway"), flush=True)


def verify_here(settings: Settings, pacts: Sequence[ToVerify], *, publish: bool) -> list[Outcome]:
    """Verify in this process and print one summary over the pacts."""
    announce(settings, pacts)
    outcomes = run(settings, pacts, publish=publish)
    print(report(Outcome.combined(outcomes)), flush=True)
    return outcomes
