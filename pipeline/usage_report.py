"""The usage map as people read it (Markdown with a Mermaid picture, or JSON), and the can-i-remove answer."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import PipelineError
from pipeline.github import append_summary, markdown, say, summary_line
from pipeline.output import printable
from pipeline.settings import Settings
from pipeline.usage import Entry, UsageMap, Use, read_usage

STEPS = ("can-i-remove", "usage")
DESCRIPTION = "example_provider/openapi.yaml"
YES, NO, CANNOT_TELL = 0, 1, 2


def by_consumer(uses: Sequence[Use]) -> dict[tuple[str, str], list[str]]:
    """The interactions of each consumer (and the broker's reason for choosing its pact), in the order met."""
    found: dict[tuple[str, str], list[str]] = {}
    for use in uses:
        found.setdefault((use.consumer, use.selected), []).append(use.name)
    return found


def who(consumer: str, selected: str) -> str:
    """A consumer in Markdown, with its branch or environment when the broker gave one."""
    return markdown(consumer) + (f" ({markdown(selected)})" if selected else "")


def consumers_line(uses: Sequence[Use]) -> str:
    """Each consumer and how many of its interactions, on one line of Markdown."""
    return ", ".join(f"{who(*key)} ({len(found)})" for key, found in by_consumer(uses).items())


def section(title: str, entries: Sequence[Entry], nobody: str, lacking: Sequence[Entry], lacks: str) -> list[str]:
    """A part of the map: what is used, by whom; what nobody uses; what the pacts use that the description lacks."""
    used = [f"- **{markdown(entry.name)}**: {consumers_line(entry.uses)}" for entry in entries if entry.uses]
    unused = [markdown(entry.name) for entry in entries if not entry.uses]
    lines = [f"### {title}", "", *used, *([""] if used else []), f"{nobody}: {', '.join(unused) or 'none'}."]
    return [*lines, "", *flagged(lacks, lacking)]


def flagged(title: str, entries: Sequence[Entry]) -> list[str]:
    """What the pacts use that the description lacks, each with why and by whom; nothing when there is none."""
    lines = [f"{title}:", ""]
    for entry in entries:
        why = f" ({markdown(entry.note)})" if entry.note else ""
        lines.append(f"- **{markdown(entry.name)}**{why}: {consumers_line(entry.uses)}")
    return [*lines, ""] if entries else []


def interactions_of(usage: UsageMap) -> int:
    """How many interactions the pacts of the map hold."""
    return sum(pact.interactions for pact in usage.pacts)


def markdown_map(usage: UsageMap) -> str:
    """The map in Markdown: the pacts read, operations, response fields, provider states, and a picture."""
    lines = [
        "## Who uses the API",
        "",
        f"{len(usage.pacts)} pact(s), {interactions_of(usage)} interaction(s), from {markdown(usage.source)}, "
        f"matched against {markdown(DESCRIPTION)}.",
        "",
        "| Consumer | Selected as | Pact | Interactions |",
        "| --- | --- | --- | ---: |",
        *(
            f"| {markdown(pact.consumer)} | {markdown(pact.selected or '-')} | {markdown(pact.location)} | "
            f"{pact.interactions} |"
            for pact in usage.pacts
        ),
        "",
        "### Operations",
        "",
    ]
    for entry in (entry for entry in usage.operations if entry.uses):
        lines.append(f"- **{markdown(entry.name)}**")
        for (consumer, selected), found in by_consumer(entry.uses).items():
            lines.append(f"  - {who(consumer, selected)}: {'; '.join(markdown(name) for name in found)}")
    unused = [markdown(entry.name) for entry in usage.operations if not entry.uses]
    if len(unused) < len(usage.operations):
        lines.append("")  # after the list of operations called
    lines += [f"Operations no consumer calls: {', '.join(unused) or 'none'}.", ""]
    lines += flagged("Requests the description lacks (their path or method is not in it)", usage.undescribed_requests)
    lines += section(
        "Response fields (consumers, and how many of their interactions expect the field)",
        usage.fields,
        "Fields no consumer relies on",
        usage.undescribed_fields,
        "Keys the pacts expect that the description does not name",
    )
    lines += section(
        "Provider states",
        usage.states,
        "Declared states no pact uses",
        usage.undeclared_states,
        "States the pacts use that no declaration matches",
    )
    return "\n".join([*lines, "### Consumers and operations", "", *mermaid(usage), ""])


def label(text: str) -> str:
    """Outside text as a quoted Mermaid label: anything but letters, digits, spaces and `._-/` as an entity code."""
    return "".join(char if char.isalnum() or char in " ._-/" else f"#{ord(char)};" for char in printable(text))


def mermaid(usage: UsageMap) -> list[str]:
    """A flowchart, consumers to the operations they call (edges counted in interactions), as GitHub renders it."""
    consumers = list(dict.fromkeys(use.consumer for entry in usage.operations for use in entry.uses))
    consumers += [use.consumer for entry in usage.undescribed_requests for use in entry.uses]
    nodes = {consumer: f"c{number}" for number, consumer in enumerate(dict.fromkeys(consumers))}
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'  {node}["{label(consumer)}"]' for consumer, node in nodes.items()]
    groups = (("o", usage.operations, ""), ("x", usage.undescribed_requests, " (not in the description)"))
    for prefix, entries, suffix in groups:
        for number, entry in enumerate(entries):
            style = ":::undescribed" if suffix else "" if entry.uses else ":::unused"
            lines.append(f'  {prefix}{number}["{label(entry.name + suffix)}"]{style}')
            for (consumer, _), found in by_consumer(entry.uses).items():
                lines.append(f"  {nodes[consumer]} -->|{len(found)}| {prefix}{number}")
    lines += ["  classDef unused stroke-dasharray: 4 4", "  classDef undescribed stroke:#c00,stroke-width:2px"]
    return [*lines, "```"]


def json_map(usage: UsageMap) -> str:
    """The map's facts as JSON (docs/usage.md describes it); outside text printable, URLs masked."""

    def uses(use: Use) -> dict[str, object]:
        names = {"consumer": use.consumer, "interaction": use.interaction, "selected": use.selected}
        return {key: printable(value) for key, value in names.items()} | {"given": [printable(s) for s in use.given]}

    def entries(found: Sequence[Entry]) -> list[dict[str, object]]:
        return [
            {"name": printable(entry.name)}
            | ({"note": printable(entry.note)} if entry.note else {})
            | {"uses": [uses(use) for use in entry.uses]}
            for entry in found
        ]

    facts = {
        "source": printable(usage.source),
        "description": DESCRIPTION,
        "pacts": [
            {
                "consumer": printable(pact.consumer),
                "location": printable(pact.location),
                "selected": printable(pact.selected),
                "interactions": pact.interactions,
            }
            for pact in usage.pacts
        ],
        "operations": entries(usage.operations),
        "undescribed_requests": entries(usage.undescribed_requests),
        "fields": entries(usage.fields),
        "undescribed_fields": entries(usage.undescribed_fields),
        "states": entries(usage.states),
        "undeclared_states": entries(usage.undeclared_states),
    }
    return json.dumps(facts, indent=2)


def can_i_remove(usage: UsageMap, kind: str, name: str) -> tuple[int, list[str]]:
    """Whether no consumer relies on a field or an operation (0), which do and where (1), or why no answer (2)."""
    if kind == "operation":
        method, _, path = " ".join(name.split()).partition(" ")
        name = f"{method.upper()} {path}"
    described, undescribed = (
        (usage.fields, usage.undescribed_fields) if kind == "field" else (usage.operations, usage.undescribed_requests)
    )
    entry = next((entry for entry in described if entry.name == name), None)
    if entry is None:
        expected = next((found for found in undescribed if found.name == name), None)
        yet = f" (yet {len(by_consumer(expected.uses))} consumer(s) expect it)" if expected else ""
        known = ", ".join(found.name for found in described)
        return CANNOT_TELL, [f"{printable(name)!r}: no such {kind} in {DESCRIPTION}{yet}; its {kind}s: {known}"]
    read = f"{len(usage.pacts)} pact(s), {interactions_of(usage)} interaction(s), from {printable(usage.source)}"
    if not entry.uses:
        return YES, [f"yes: no consumer relies on the {kind} {name} in the {read}"]
    consumers = by_consumer(entry.uses)
    lines = [f"no: {len(consumers)} consumer(s) rely on the {kind} {name} in the {read}:"]
    for (consumer, selected), found in consumers.items():
        where = f" ({printable(selected)})" if selected else ""
        lines.append(f"  - {printable(consumer)}{where}: {', '.join(repr(printable(item)) for item in found)}")
    return NO, lines


def questions() -> list[tuple[str, str]]:
    """What can-i-remove is asked, from FIELD and OPERATION in the environment (make exports them)."""
    asked = [("field", os.environ.get("FIELD", "")), ("operation", os.environ.get("OPERATION", ""))]
    return [(kind, value.strip()) for kind, value in asked if value.strip()]


def folded(usage: UsageMap) -> str:
    """The map for the job summary, folded: the build's own lines after it stay in view."""
    return f"<details><summary>Who uses the API</summary>\n\n{markdown_map(usage)}\n</details>\n\n"


def show_usage(settings: Settings) -> None:
    """The map after a verification, in the log and the job summary; when it cannot be drawn, one line why,
    never a failure: the build's verdict is the verification's."""
    try:
        usage = read_usage(settings)
        print("\n" + markdown_map(usage), flush=True)
        append_summary(settings, folded(usage))
    except PipelineError as error:
        say("usage", f"no usage map: {printable(error)}")
    except Exception as error:  # the map is a report: nothing in it may fail the build or hide its verdict
        say("usage", f"no usage map: {type(error).__name__}: {printable(error)}")


def main(argv: Sequence[str]) -> int:
    """`python -m pipeline usage|can-i-remove [--pact-dir DIR] [--format markdown|json]`: 0, 1 or 2."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Who uses what of the API.")
    parser.add_argument("step", choices=STEPS)
    parser.add_argument("--pact-dir", type=Path, help="read the pacts in this folder (default: as a verification)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    args = parser.parse_args(argv)
    asked = questions()
    if args.step == "can-i-remove" and not asked:
        print("[can-i-remove] ask about FIELD=Schema.property or OPERATION='METHOD /path'", file=sys.stderr)
        return CANNOT_TELL
    try:
        settings = Settings.from_env()
        usage = read_usage(settings, args.pact_dir)
    except PipelineError as error:
        print(f"[{args.step}] cannot tell: {printable(error)}", file=sys.stderr, flush=True)
        return CANNOT_TELL
    except KeyboardInterrupt:
        print(f"[{args.step}] interrupted", file=sys.stderr)
        return 130
    if args.step == "usage":
        print(json_map(usage) if args.format == "json" else markdown_map(usage), flush=True)
        append_summary(settings, folded(usage))
        return YES
    answers = [can_i_remove(usage, kind, name) for kind, name in asked]
    for code, lines in answers:
        print(
            f"[can-i-remove] {lines[0]}", *lines[1:], sep="\n", file=sys.stderr if code == CANNOT_TELL else sys.stdout
        )
        summary_line(settings, f"can-i-remove: {lines[0]}")
    return max(code for code, _ in answers)
