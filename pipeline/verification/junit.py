"""The JUnit XML report of a verification: a testsuite per pact, a testcase per interaction."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from pipeline.redact import printable
from pipeline.verification.outcome import Interaction, PactResult

PENDING = "pending pact: this failure does not fail the build"


def representable(text: str) -> str:
    """Outside text as the body of an element, which XML 1.0 can hold: line by line, control characters
    escaped as `\\xNN`. An attribute takes `printable` text: one line."""
    return "\n".join(printable(line) for line in text.splitlines())


def case_name(item: Interaction) -> str:
    """An interaction by its description and provider states, as the summary names it."""
    given = f" given {', '.join(item.states)}" if item.states else ""
    return printable(f"{item.description}{given}")


def _verdict(case: ET.Element, item: Interaction) -> str | None:
    """Mark a testcase that did not pass; answer the kind of mark (failure, error, skipped)."""
    if item.passed:
        return None
    kind = "skipped" if item.pending else ("error" if item.did_not_run else "failure")
    message = f"{PENDING}: {item.mismatch}" if item.pending else item.mismatch
    mark = ET.SubElement(case, kind, message=printable(message))
    mark.text = representable(item.details or item.mismatch)
    return kind


def _error_case(suite: ET.Element, classname: str, name: str, message: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0.000")
    ET.SubElement(case, "error", message=printable(message)).text = representable(message)


def testsuite(pact: PactResult) -> ET.Element:
    """One pact's testsuite: its interactions, then what could not run (a pact not fetched, publishing)."""
    outcome = pact.outcome
    suite = ET.Element("testsuite", name=printable(pact.label))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("consumer", pact.consumer),
        ("provider", pact.provider),
        ("source", pact.source),
        ("pending", str(pact.pending).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=printable(value))
    classname = printable(pact.consumer or pact.label)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    timed = sum(item.seconds or 0.0 for item in outcome.interactions)
    untimed = [item for item in outcome.interactions if item.seconds is None]
    share = max(outcome.seconds - timed, 0.0) / len(untimed) if untimed else 0.0
    for item in outcome.interactions:
        seconds = share if item.seconds is None else item.seconds
        case = ET.SubElement(suite, "testcase", classname=classname, name=case_name(item), time=f"{seconds:.3f}")
        if kind := _verdict(case, item):
            counts[kind] += 1
    problems = [("verification", error) for error in outcome.errors]
    problems += [("publishing the results", error) for error in outcome.publish_errors]
    for name, message in problems:
        _error_case(suite, classname, name, message)
        counts["error"] += 1
    suite.set("tests", str(len(outcome.interactions) + len(problems)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", f"{max(outcome.seconds, timed):.3f}")
    return suite


def document(pacts: Sequence[PactResult], problem: str | None = None) -> ET.ElementTree:
    """The report over every pact, in the summary's order; a verification that could not start is one error."""
    root = ET.Element("testsuites", name="pact verification")
    if problem is not None:
        suite = ET.SubElement(root, "testsuite", name="pact verification", tests="1", failures="0", errors="1")
        suite.set("skipped", "0")
        suite.set("time", "0.000")
        _error_case(suite, "pact verification", "verification could not start", problem)
    root.extend(testsuite(pact) for pact in pacts)
    for count in ("tests", "failures", "errors", "skipped"):
        root.set(count, str(sum(int(suite.get(count, "0")) for suite in root)))
    root.set("time", f"{sum(float(suite.get('time', '0')) for suite in root):.3f}")
    return ET.ElementTree(root)


def write(path: Path, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """Write the report to `path`, its folder created when needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = document(pacts, problem)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def discard(path: Path) -> None:
    """Remove a report an earlier run left, so that it is never taken for this run's."""
    path.unlink(missing_ok=True)
