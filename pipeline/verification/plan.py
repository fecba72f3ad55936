"""A verification from start to end: check the pacts, decide on publishing and processes, verify, answer every pact."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import evolve

from pipeline.settings import Settings, SettingsError
from pipeline.verification.outcome import Outcome, Verification
from pipeline.verification.output import safe_line
from pipeline.verification.pacts import (
    BrokerSelection,
    OnePact,
    PactJob,
    PactsToVerify,
    VerificationError,
    checked_sources,
)
from pipeline.verification.report import report, verdict
from pipeline.verification.run import announce, run
from pipeline.verification.sources import BadPactSource, PactSource, read_pact_source

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


def read_listed(pact: PactForVerification, settings: Settings) -> PactSource | str:
    """A pact the broker listed, read and checked as a worker reads it; the reason when it cannot be verified."""
    try:
        return read_pact_source(pact.url, settings)
    except (BadPactSource, SettingsError) as error:
        return str(error)


def in_this_process(
    settings: Settings, jobs: Sequence[PactJob], sources: Sequence[PactSource | str], *, publish: bool
) -> Verification:
    """Each pact with a verifier run of its own against one served app, one summary over them all;
    a pact that could not be read (its reason given instead of its source) is refused."""
    readable = [
        (source, job.pending) for job, source in zip(jobs, sources, strict=True) if isinstance(source, PactSource)
    ]
    for reason in (source for source in sources if isinstance(source, str)):
        print(safe_line(f"verify: {reason}"), file=sys.stderr)
    for job in jobs:
        for notice in job.notices:
            print(safe_line(f"  {job.label}: {notice}"))
    announce(settings, readable)
    outcomes = iter(run(settings, readable, publish=publish))
    results = []
    for job, source in zip(jobs, sources, strict=True):
        if isinstance(source, PactSource):
            results.append(job.result(next(outcomes), consumer=source.consumer, provider=source.provider))
        else:
            results.append(job.result(Outcome(interactions=(), errors=(source,)), refused=True))
    combined = Outcome.combined([result.outcome for result in results])
    print(report(combined), flush=True)
    return Verification(pacts=tuple(results), verdict=verdict(combined))


def jobs_for(
    pacts: PactsToVerify, sources: tuple[PactSource, ...], found: list[PactForVerification], pending: bool
) -> list[PactJob]:
    """One job per pact: each checked source (pending when asked), or each pact the broker listed."""
    if isinstance(pacts, BrokerSelection):
        return [PactJob.from_broker(pact) for pact in found]
    if isinstance(pacts, OnePact):
        return [PactJob(label=sources[0].label, source=sources[0].location, pending=pending)]
    return [evolve(PactJob.from_file(source.location), pending=pending) for source in sources]


def verify(
    settings: Settings, pacts: PactsToVerify, *, publish: bool, jobs: int, pending: bool = False
) -> Verification:
    """Verify the pacts, several in worker processes when that is faster, and print what was found.
    `pending` marks the pacts of a one-process run as pending: their failures do not fail it."""
    sources = checked_sources(pacts, settings)
    publish = publishing(settings, sources, publish)
    found = broker_pacts(settings) if isinstance(pacts, BrokerSelection) else []
    pact_jobs = jobs_for(pacts, sources, found, pending)
    listed: tuple[PactSource | str, ...] = sources or tuple(read_listed(pact, settings) for pact in found)
    if jobs > 1 and len(pact_jobs) > 1:
        # imported here: a one-process run, the common case, starts faster without them
        from pipeline.verification.workers import verify_in_workers, worker_count

        readable = all(isinstance(source, PactSource) for source in listed)  # else: one worker per pact
        interactions = sum(source.interactions for source in listed if isinstance(source, PactSource))
        workers = worker_count(jobs, len(pact_jobs), interactions if readable else None)
        if workers > 1:
            return verify_in_workers(pact_jobs, workers, settings, publish=publish)
    return in_this_process(settings, pact_jobs, listed, publish=publish)
