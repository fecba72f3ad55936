"""Which pacts a verification verifies, named once: the files in a folder, one pact, or the broker's selection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attrs import frozen

from pipeline.settings import Settings
from pipeline.verification.outcome import Outcome, PactResult
from pipeline.verification.sources import PactSource, read_pact_source

if TYPE_CHECKING:  # the broker's HTTP client takes a tenth of a second to import; local pacts do without it
    from pipeline.broker_api import PactForVerification


class VerificationError(Exception):
    """The verification could not run; the message is one line for a person."""


@frozen
class LocalPacts:
    """Every pact file (*.json) in a folder, verified without a broker."""

    folder: Path


@frozen
class OnePact:
    """One pact, a file or a URL: what PACT_URL names in a webhook build."""

    location: str


@frozen
class BrokerSelection:
    """The pacts the broker selects for this build."""


PactsToVerify = LocalPacts | OnePact | BrokerSelection


@frozen
class PactJob:
    """One pact for one worker: a file or a broker URL, and whether its failures may fail the build."""

    label: str
    source: str
    pending: bool = False
    notices: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str) -> PactJob:
        return cls(label=Path(path).name, source=path)

    @classmethod
    def from_broker(cls, pact: PactForVerification) -> PactJob:
        return cls(label=pact.description, source=pact.url, pending=pact.pending, notices=pact.notices)

    def result(self, outcome: Outcome, *, consumer: str = "", provider: str = "", refused: bool = False) -> PactResult:
        """This pact's result, from what its run found."""
        return PactResult(
            label=self.label,
            source=self.source,
            outcome=outcome,
            consumer=consumer,
            provider=provider,
            pending=self.pending,
            refused=refused,
        )


def choose(settings: Settings, *, pact_url: str | None = None, pact_dir: Path | None = None) -> PactsToVerify:
    """The pacts to verify: a pact URL (given, else PACT_URL), else a folder given, else the broker's
    selection when there is a broker, else the pact folder (PACT_DIR)."""
    if pact_url or settings.pact_url:
        return OnePact(pact_url or str(settings.pact_url))
    if pact_dir:
        return LocalPacts(pact_dir)
    if settings.has_broker:
        return BrokerSelection()
    return LocalPacts(settings.pact_dir)


def checked_sources(pacts: PactsToVerify, settings: Settings) -> tuple[PactSource, ...]:
    """The pacts to verify by file or URL, read and checked before any verifier runs; none for the broker's."""
    if isinstance(pacts, OnePact):
        return (read_pact_source(pacts.location, settings),)
    if isinstance(pacts, BrokerSelection):
        return ()
    if not pacts.folder.is_dir():
        raise VerificationError(f"pact folder not found: {pacts.folder}")
    paths = sorted(pacts.folder.glob("*.json"))
    if not paths:
        raise VerificationError(f"no pact files (*.json) in {pacts.folder}")
    return tuple(read_pact_source(str(path), settings) for path in paths)
