"""One verifier run: serve the verification app, point the verifier at the pacts, and answer what it found."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote

from pipeline.server import LOOPBACK, running_server
from pipeline.settings import Settings
from pipeline.verification.outcome import Interaction, Outcome
from pipeline.verification.output import filtered_output, safe_line
from pipeline.verification.report import report
from pipeline.verification.selection import Selection
from pipeline.verification.sources import PUBLISH_LINK, PactSource, credentials
from states import create_verification_app

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from pact import Verifier  # noqa: E402  (the telemetry switch must be set before pact loads)

NOT_SUPPORTED = "not supported: message interaction (this provider publishes no messages)"
PUBLISH_FAILURE = re.compile(r"path '(?P<path>[^']+)' failed: (?P<answer>\d{3}[^.]*)")

# What one run verifies: checked pact files and URLs, or the broker's selection.
Pacts = tuple[PactSource, ...] | Selection


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


def configure(verifier: Verifier, settings: Settings, pacts: Pacts, publish: bool) -> Verifier:
    """Point the verifier at its pacts: the checked sources, or else the broker's selection."""
    if isinstance(pacts, Selection):
        auth = credentials(str(settings.broker_url), settings)
        selected = verifier.broker_source(settings.broker_url, selector=True, use_env=False, **auth)
        for selector in pacts.selectors:
            selected.consumer_version(**selector.option)
        if pacts.provider_branch:
            selected.provider_branch(pacts.provider_branch)
        selected.include_pending().include_wip_since(pacts.include_wip_since).build()
    else:
        for source in pacts:
            verifier.add_source(source.location, **credentials(source.location, settings))
    if publish:
        verifier.set_publish_options(
            version=str(settings.provider_version), url=settings.build_url, branch=settings.provider_branch
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


def run(settings: Settings, pacts: Pacts, *, publish: bool = False, pending: bool = False) -> Outcome:
    """Serve the verification app on loopback and replay the pacts against it; `pending` marks
    a pact the broker sent as pending, whose failures do not fail the build."""
    sources = () if isinstance(pacts, Selection) else pacts
    app = create_verification_app()
    no_link = [
        f"{source.label} is not a broker pact (it has no {PUBLISH_LINK} link)"
        for source in sources
        if not source.takes_results
    ]
    watch = PublishWatch()
    pact_logger = logging.getLogger("pact.ffi")
    pact_logger.addHandler(watch)
    try:
        with filtered_output() as output, running_server(app) as base_url:
            verifier = Verifier(settings.provider_name, host=LOOPBACK).add_transport(url=base_url)
            verifier.set_coloured_output(enabled=False)  # its output is filtered: a colour code would be escaped
            verifier.state_handler(base_url + app.state.states_path, teardown=True, body=True)
            configure(verifier, settings, pacts, publish and not no_link)
            finished = execute(verifier, settings.verify_timeout)
    finally:
        pact_logger.removeHandler(watch)
    if not finished:
        late = (
            f"the verification did not finish within {settings.verify_timeout} s (VERIFY_TIMEOUT); is the broker slow?"
        )
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


def verify_here(settings: Settings, pacts: Pacts, *, publish: bool, pending: bool = False) -> Outcome:
    """Verify in this process and print the summary; a pact for another provider is verified, and said so."""
    for source in () if isinstance(pacts, Selection) else pacts:
        if source.provider != settings.provider_name:
            other = f"the provider {source.provider!r}, not {settings.provider_name!r}"
            print(safe_line(f"verify: the pact {source.label} is for {other}; verifying it anyway"), flush=True)
    outcome = run(settings, pacts, publish=publish, pending=pending)
    print(report(outcome), flush=True)
    return outcome
