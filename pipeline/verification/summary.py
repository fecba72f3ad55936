"""A verification as GitHub Actions shows it: a Markdown job summary and an annotation per failed interaction."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.github import annotation, markdown
from pipeline.verification.junit import case_name
from pipeline.verification.outcome import PactResult


def job_summary(pacts: Sequence[PactResult]) -> str:
    """A table with a row per pact, then every interaction that failed with its mismatch, and what broke."""
    lines = ["## Pact verification", "", "| Consumer | Pact | Passed | Failed |", "| --- | --- | ---: | ---: |"]
    problems = []
    for pact in pacts:
        outcome = pact.outcome
        failed = len(outcome.interactions) - outcome.passed_count
        source = f"{markdown(pact.label)}{' (pending)' if pact.pending else ''}"
        lines.append(f"| {markdown(pact.consumer or '-')} | {source} | {outcome.passed_count} | {failed} |")
        for item in outcome.interactions:
            if not item.passed:
                counted = " (pending, not counted)" if item.pending else ""
                name = f"{markdown(item.consumer)}: {markdown(case_name(item))}"
                problems.append(f"- **{name}**{counted}: {markdown(item.mismatch)}")
        problems += [f"- {markdown(pact.label)}: {markdown(error)}" for error in outcome.errors]
        problems += [f"- {markdown(pact.label)}: publishing failed: {markdown(e)}" for e in outcome.publish_errors]
    if problems:
        lines += ["", "### Failed", "", *problems]
    return "\n".join(lines) + "\n\n"  # a blank line ends the table: the build steps' lines follow


def failure_annotations(pacts: Sequence[PactResult]) -> list[str]:
    """An `::error` per failed interaction, a `::warning` per failure of a pending pact."""
    found = []
    for pact in pacts:
        for item in pact.outcome.interactions:
            if not item.passed:
                title = f"{'pending pact ' if item.pending else ''}{item.consumer}: {case_name(item)}"
                found.append(annotation("warning" if item.pending else "error", title, item.mismatch))
        found += [annotation("error", f"pact {pact.label}", error) for error in pact.outcome.errors]
    return found
