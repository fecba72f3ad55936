"""What a verification found, as records: per interaction, per run, per pact, and for the whole verification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen


@frozen
class Interaction:
    """The verdict on one interaction of one pact."""

    consumer: str
    description: str
    states: tuple[str, ...]
    passed: bool
    pending: bool
    mismatch: str = ""  # the one line the summary prints
    details: str = ""  # the verifier's mismatch in full
    did_not_run: bool = False  # its request was never made: a provider state refused, the request failed
    seconds: float | None = None  # as the verifier timed it


@frozen
class Outcome:
    """What one verification run found."""

    interactions: tuple[Interaction, ...]
    errors: tuple[str, ...] = ()
    refused_states: tuple[dict[str, Any], ...] = ()
    publish_errors: tuple[str, ...] = ()
    published: bool = False
    seconds: float = 0.0  # the run's wall time

    @classmethod
    def combined(cls, outcomes: Sequence[Outcome]) -> Outcome:
        """The outcomes of several runs as one, as the summary of one process prints them."""
        return cls(
            interactions=tuple(item for outcome in outcomes for item in outcome.interactions),
            errors=tuple(error for outcome in outcomes for error in outcome.errors),
            refused_states=tuple(refusal for outcome in outcomes for refusal in outcome.refused_states),
            publish_errors=tuple(error for outcome in outcomes for error in outcome.publish_errors),
            published=bool(outcomes) and all(outcome.published for outcome in outcomes),
            seconds=sum(outcome.seconds for outcome in outcomes),
        )

    @property
    def failed(self) -> list[Interaction]:
        """Failed interactions that count: a pending pact's failures do not fail the build."""
        return [item for item in self.interactions if not item.passed and not item.pending]

    @property
    def ok(self) -> bool:
        """Whether the run passed: nothing failed, nothing broke, every result that was due got published."""
        return not (self.failed or self.errors or self.publish_errors) and bool(self.interactions)

    @property
    def passed_count(self) -> int:
        return sum(item.passed for item in self.interactions)


@frozen
class PactResult:
    """One pact and what its run found."""

    label: str
    source: str
    outcome: Outcome
    consumer: str = ""
    provider: str = ""
    pending: bool = False
    refused: bool = False  # the pact could not be verified at all: a bad source or setting

    @property
    def exit_code(self) -> int:
        """2 for a pact that could not be verified, 1 for a failed one, 0 for a passed one."""
        return 2 if self.refused else int(not self.outcome.ok)


@frozen
class Verification:
    """Every pact a verification verified, each with its outcome, and the verdict line it closed with."""

    pacts: tuple[PactResult, ...]
    verdict: str = ""

    @property
    def exit_code(self) -> int:
        """The worst of the pacts' exit codes."""
        return max((pact.exit_code for pact in self.pacts), default=1)
