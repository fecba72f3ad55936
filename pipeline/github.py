"""What a build shows: its own lines in the log, and on GitHub Actions annotations and the job summary."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.output import printable, safe_line
from pipeline.results import PactResult
from pipeline.settings import Settings

HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# What Markdown could read as markup, a table's cell break or the start of an automatic link (`https:`, `@`,
# `www.`): HTML characters become entities, the others get the backslash CommonMark lets any punctuation take.
MARKUP = re.compile(r"[\\`*_\[\](){}|~!#:@<>&]|(?<=www)\.", re.IGNORECASE)


def command_data(text: str) -> str:
    """Text as the data of a workflow command: `%`, carriage return and newline escaped, as GitHub reads them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(text: str) -> str:
    """Text as a property value of a workflow command: its data escapes, and `:` and `,` too."""
    return command_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    """A workflow command that annotates the run (`error` or `warning`); outside text is printable first."""
    return f"::{level} title={command_property(printable(title))}::{command_data(printable(message))}"


def markdown(text: object) -> str:
    """Outside text as literal Markdown on one line (a table cell included): no HTML, link, code or cell break."""
    line = printable(text)
    return MARKUP.sub(lambda found: HTML.get(found[0], "\\" + found[0]), line)


def append_summary(settings: Settings, text: str) -> None:
    """Append Markdown to the job summary; nothing outside GitHub Actions."""
    if settings.github_actions and settings.step_summary is not None:
        with settings.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(text if text.endswith("\n") else text + "\n")


def say(step: str, message: str) -> None:
    """One line of the pipeline's own report."""
    print(safe_line(f"[{step}] {message}"), flush=True)


def summary_line(settings: Settings, text: str) -> None:
    """One line of the build's steps in the job summary, its text kept literal."""
    append_summary(settings, f"- {markdown(text)}")


def job_summary(pacts: Sequence[PactResult]) -> str:
    """A table with a row per pact, then every interaction that failed with its mismatch, and what broke."""
    lines = ["## Pact verification", "", "| Consumer | Pact | Passed | Failed |", "| --- | --- | ---: | ---: |"]
    problems = []
    for result in pacts:
        failed = len(result.interactions) - result.passed_count
        source = f"{markdown(result.pact.label)}{' (pending)' if result.pact.pending else ''}"
        lines.append(f"| {markdown(result.pact.consumer or '-')} | {source} | {result.passed_count} | {failed} |")
        for item in result.interactions:
            if not item.passed:
                counted = " (pending, not counted)" if item.pending else ""
                name = f"{markdown(item.consumer)}: {markdown(item.name)}"
                problems.append(f"- **{name}**{counted}: {markdown(item.mismatch)}")
        label = markdown(result.pact.label)
        problems += [f"- {label}: {markdown(error)}" for error in result.errors]
        problems += [f"- {label}: publishing failed: {markdown(error)}" for error in result.publish_errors]
    if problems:
        lines += ["", "### Failed", "", *problems]
    return "\n".join(lines) + "\n\n"  # a blank line ends the table: the build steps' lines follow


def show_verification(settings: Settings, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """On GitHub Actions: an `::error` per failed interaction (a `::warning` for a pending pact's), or one for
    the problem that kept the verification from starting, and the job summary."""
    notes = [annotation("error", "pact verification", problem)] if problem else []
    for result in pacts:
        for item in result.interactions:
            if not item.passed:
                title = f"{'pending pact ' if item.pending else ''}{item.consumer}: {item.name}"
                notes.append(annotation("warning" if item.pending else "error", title, item.mismatch))
        notes += [annotation("error", f"pact {result.pact.label}", error) for error in result.errors]
    for note in notes:
        print(note, flush=True)
    append_summary(settings, f"- verification could not start: {markdown(problem)}" if problem else job_summary(pacts))
