"""A verification from start to end: check the pacts, decide on publishing and processes, verify, answer every pact."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from pipeline.settings import Settings
from pipeline.verification.outcome import PactResult, Verification
from pipeline.verification.pacts import (
    BrokerSelection,
    LocalPacts,
    OnePact,
    PactsToVerify,
    VerificationError,
    checked_sources,
)
from pipeline.verification.run import verify_here
from pipeline.verification.selection import selection
from pipeline.verification.sources import PactSource

if TYPE_CHECKING:  # the broker's HTTP client loads only for a broker run
    from pipeline.broker_api import PactForVerification


def broker_pacts(settings: Settings) -> list[PactForVerification]:
    """The broker's pacts for verification, asked for before any verifier runs, so that a broker
    fault reads the same in one process and in several."""
    from pipeline.broker_api import pacts_for_verification
    from pipeline.errors import BrokerStepFailed

    try:
        return pacts_for_verification(settings)
    except BrokerStepFailed as error:
        raise VerificationError(str(error)) from None


def publishing(settings: Settings, sources: tuple[PactSource, ...], publish: bool) -> bool:
    """Whether this verification publishes its results: never from local files alone, never without a version."""
    if publish and sources and not any(source.remote for source in sources):
        print("verify: results are not published: local pact files have no broker to publish to", file=sys.stderr)
        return False
    if publish and not settings.provider_version:
        raise VerificationError("cannot publish verification results without a provider version: set GIT_COMMIT")
    return publish


def in_this_process(
    settings: Settings, pacts: PactsToVerify, sources: tuple[PactSource, ...], *, publish: bool, pending: bool
) -> Verification:
    """One verifier run over all the pacts: the checked sources, or else the broker's selection."""
    outcome = verify_here(settings, sources or selection(settings), publish=publish, pending=pending)
    if isinstance(pacts, BrokerSelection):
        label, location = "the broker's pacts for verification", str(settings.broker_url)
    elif isinstance(pacts, LocalPacts):
        label, location = f"the pacts in {pacts.folder}", str(pacts.folder)
    else:
        label, location = sources[0].label, sources[0].location
    only = sources[0] if len(sources) == 1 else None
    result = PactResult(
        label=label,
        source=location,
        outcome=outcome,
        consumer=only.consumer if only else "",
        provider=only.provider if only else settings.provider_name,
        pending=pending,
    )
    return Verification(pacts=(result,))


def verify(
    settings: Settings, pacts: PactsToVerify, *, publish: bool, jobs: int, pending: bool = False
) -> Verification:
    """Verify the pacts, several in worker processes when that is faster, and print what was found.
    `pending` marks the pacts of a one-process run as pending: their failures do not fail it."""
    sources = checked_sources(pacts, settings)
    publish = publishing(settings, sources, publish)
    found = broker_pacts(settings) if isinstance(pacts, BrokerSelection) else []
    if isinstance(pacts, OnePact) or jobs == 1:
        return in_this_process(settings, pacts, sources, publish=publish, pending=pending)
    # imported here: a one-process run, the common case, starts faster without them
    from pipeline.verification.workers import PactJob, verify_in_workers, worker_count

    if isinstance(pacts, BrokerSelection):
        from pipeline.broker_api import count_interactions

        pact_jobs = [PactJob.from_broker(pact) for pact in found]
        interactions = count_interactions(settings, found) if len(found) > 1 else None
    else:
        pact_jobs = [PactJob.from_file(source.location) for source in sources]
        interactions = sum(source.interactions for source in sources)
    workers = worker_count(jobs, len(pact_jobs), interactions)
    if workers == 1:
        return in_this_process(settings, pacts, sources, publish=publish, pending=pending)
    return Verification(pacts=verify_in_workers(pact_jobs, workers, settings, publish=publish))
