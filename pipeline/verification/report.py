"""The summary printed from what a verification found: per run, and the closing line over several pacts."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.verification.outcome import Outcome, PactResult
from pipeline.verification.output import safe_line


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


def closing_line(pacts: Sequence[PactResult], workers: int, publish: bool) -> str:
    """The verdict over all pacts from their outcomes: "published" only when every pact's results were."""
    passed = sum(pact.outcome.passed_count for pact in pacts)
    failed = sum(len(pact.outcome.interactions) for pact in pacts) - passed
    counts = f"{passed} passed, {failed} failed in {len(pacts)} pacts ({workers} workers)"
    broken = [f"{pact.label}: {reason(pact.outcome)}" for pact in pacts if pact.exit_code]
    if broken:
        more = f" (and {len(broken) - 1} more failed pacts)" if len(broken) > 1 else ""
        return safe_line(f"verification FAILED ({counts}): {broken[0]}{more}")
    published = publish and all(pact.outcome.published for pact in pacts)
    return safe_line(f"verification passed: {counts}{'; results published' if published else ''}")
