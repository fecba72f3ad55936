"""What a build shows on a GitHub Actions run page: workflow-command annotations and the job summary."""

from __future__ import annotations

import re

from pipeline.redact import printable
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


def on_actions(settings: Settings) -> bool:
    """Whether this build runs on GitHub Actions with a job summary to write to."""
    return settings.github_actions and settings.step_summary is not None


def append_summary(settings: Settings, text: str) -> None:
    """Append Markdown to the job summary; nothing outside GitHub Actions."""
    if on_actions(settings) and settings.step_summary is not None:
        with settings.step_summary.open("a", encoding="utf-8") as summary:
            summary.write(text if text.endswith("\n") else text + "\n")


def summary_line(settings: Settings, text: str) -> None:
    """One line of the build's steps in the job summary, its text kept literal."""
    append_summary(settings, f"- {markdown(text)}")
