"""The verification core: serve the provider with its states endpoint, and point a pact verifier at each pact."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import unquote

from pipeline import VERIFIER_THREAD
from pipeline.output import filtered_output, safe_line
from pipeline.pacts import PUBLISH_LINK, Pact
from pipeline.results import PactResult, Verification, errors, interactions, summary, verdict
from pipeline.server import LOOPBACK, running_server
from pipeline.settings import Settings
from states import ProviderStates, create_verification_app

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # pact-python sends usage data unless told not to

from pact import Verifier

# Set before the first Verifier: the verifier forwards its info events to `logging`, where nothing shows them.
logging.getLogger("pact.ffi").setLevel(logging.WARNING)

PROGRESS_EVERY = 10.0  # seconds between the lines that say a long verification is alive
PUBLISH_FAILURE = re.compile(r"path '(?P<path>[^']+)' failed: (?P<answer>\d{3}[^.]*)")
LATE = "the verification of {label} did not finish within VERIFY_TIMEOUT ({timeout} s)"
NOT_REACHED = "not verified: the time for the verification (VERIFY_TIMEOUT) ran out before this pact"


def verifier_for(pact: Pact, settings: Settings, provider_url: str, states_url: str, *, publish: bool) -> Verifier:
    """A verifier for one pact: where to send its requests, where to set up provider states, where the pact is
    (with the broker's credentials only on the broker's origin), and where to publish the results."""
    verifier = (
        Verifier(settings.provider_name, host=LOOPBACK)
        .add_transport(url=provider_url)
        .state_handler(states_url, teardown=True, body=True)
        .set_coloured_output(enabled=False)  # its output is filtered: a colour code would be escaped
        .add_source(pact.location, **settings.credentials(pact.location))
    )
    if publish and pact.takes_results:
        verifier.set_publish_options(
            version=str(settings.provider_version), url=settings.build_url, branch=settings.provider_branch
        )
    return verifier


def verify_here(
    settings: Settings, pacts: Sequence[Pact], *, publish: bool, deadline: float, progress: TextIO | None = None
) -> Verification:
    """Serve the verification app on loopback, verify each pact against it in turn with a verifier of its own (in
    a thread, so that Ctrl-C and the deadline reach this one), and print one summary; progress goes to `progress`."""
    announce(settings, pacts)
    app = create_verification_app()
    states: ProviderStates = app.state.provider_states
    found = []
    with running_server(app) as base_url:
        for pact in pacts:
            if pact.problem or time.monotonic() >= deadline:
                found.append(PactResult(pact, errors=(pact.problem or NOT_REACHED,)))
                continue
            verifier = verifier_for(pact, settings, base_url, base_url + app.state.states_path, publish=publish)
            verifying = threading.Thread(target=_verify, args=(verifier,), name=VERIFIER_THREAD, daemon=True)
            refused_before, started = len(states.refused), time.monotonic()
            with PublishWatch() as publish_errors, filtered_output(settings.scrub) as output:
                verifying.start()
                finished = wait(verifying, pact, states, deadline, progress or sys.stdout)
            took = time.monotonic() - started
            if not finished:
                late = LATE.format(label=pact.label, timeout=settings.verify_timeout)
                found.append(PactResult(pact, errors=(late,), seconds=took))
                continue
            refused = tuple(states.refused[refused_before:])
            found.append(result(pact, verifier.results, refused, publish_errors, took, output.panicked, publish))
    print(summary(found), flush=True)
    return Verification(tuple(found), verdict(found))


def _verify(verifier: Verifier) -> None:
    with contextlib.suppress(RuntimeError):  # the verifier's results say what failed
        verifier.verify()


def announce(settings: Settings, pacts: Sequence[Pact]) -> None:
    """Say why a pact cannot be verified, what the broker says of it, and whether it is for another provider."""
    for pact in pacts:
        if pact.problem:
            print(safe_line(f"verify: {pact.problem}"), file=sys.stderr, flush=True)
        for notice in pact.notices:
            print(safe_line(f"  {pact.label}: {notice}"))
        if pact.provider and pact.provider != settings.provider_name:
            other = f"the provider {pact.provider!r}, not {settings.provider_name!r}"
            print(safe_line(f"verify: the pact {pact.label} is for {other}; verifying it anyway"), flush=True)


def wait(verifying: threading.Thread, pact: Pact, states: ProviderStates, deadline: float, out: TextIO) -> bool:
    """Wait for the verifier until the deadline, saying how far it is every PROGRESS_EVERY seconds; did it finish?"""
    while verifying.is_alive() and (left := deadline - time.monotonic()) > 0:
        verifying.join(min(left, PROGRESS_EVERY))
        if verifying.is_alive() and time.monotonic() < deadline:
            done = f"{states.finished} of {pact.interactions} interactions"
            print(safe_line(f"  still verifying {pact.label}: {done}"), file=out, flush=True)
    return not verifying.is_alive()


def result(
    pact: Pact,
    results: dict[str, Any],
    refused: tuple[dict[str, Any], ...],
    publish_errors: list[str],
    seconds: float,
    panicked: bool,
    publish: bool,
) -> PactResult:
    """What a finished verifier run found: its interactions, errors, refused states, and publishing."""
    no_link = [] if pact.takes_results else [f"{pact.label} is not a broker pact (it has no {PUBLISH_LINK} link)"]
    found = interactions(pact, results, refused)
    return PactResult(
        pact,
        interactions=found,
        errors=(*([f"the verifier could not read the pact {pact.label}"] if panicked else ()), *errors(results)),
        refused_states=refused,
        publish_errors=(*publish_errors, *(no_link if publish else ())),
        published=publish and pact.takes_results and not publish_errors and bool(found),
        seconds=seconds,
    )


class PublishWatch(logging.Handler):
    """In a `with` block, collects the verifier's errors about publishing, which it logs but does not raise."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def __enter__(self) -> list[str]:
        logging.getLogger("pact.ffi").addHandler(self)
        return self.errors

    def __exit__(self, *exception: object) -> None:
        logging.getLogger("pact.ffi").removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "publish" in message.lower():
            found = PUBLISH_FAILURE.search(message)
            self.errors.append(
                f"the broker answered {found['answer']} to {unquote(found['path'])}" if found else message
            )
