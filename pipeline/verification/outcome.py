"""What a verification found, as records: per interaction, per run, per pact, and for the whole verification."""

from __future__ import annotations

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
    mismatch: str = ""


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

    @property
    def passed_count(self) -> int:
        return sum(item.passed for item in self.interactions)


@frozen
class PactResult:
    """One pact (or, in one process, the set of pacts one run verified) and what its run found."""

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
    """Every pact a verification verified, each with its outcome."""

    pacts: tuple[PactResult, ...]

    @property
    def exit_code(self) -> int:
        """The worst of the pacts' exit codes."""
        return max((pact.exit_code for pact in self.pacts), default=1)
