"""What a verification found, as records, and the summary printed from them."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from pipeline.verifier_output import safe_line

NOT_SUPPORTED = "not supported: message interaction (this provider publishes no messages)"


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


def report(outcome: Outcome) -> str:
    """The closing summary: one line per interaction, then the verdict; names from pacts made printable."""
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
    return "\n".join(safe_line(line) for line in lines)


def verdict(outcome: Outcome) -> str:
    """The last line of a run: the counts, and the first reason when it failed."""
    passed = outcome.passed_count
    counts = f"{passed} passed, {len(outcome.interactions) - passed} failed"
    if outcome.ok:
        published = "; results published" if outcome.published else ""
        return safe_line(f"verification passed: {counts}{published}")
    return safe_line(f"verification FAILED ({counts}): {reason(outcome)}")


def reason(outcome: Outcome) -> str:
    """Why a run failed, in a few words."""
    if outcome.errors:
        return outcome.errors[0]
    if outcome.publish_errors:
        return f"the results were NOT published: {outcome.publish_errors[0]}"
    if not outcome.interactions:
        return "no interactions were verified: the pacts were empty or not pact documents"
    return f"{len(outcome.failed)} interaction(s) failed"
