"""JUnit XML reports, the verification's and the provider contract's: records in, a file written safely out."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from attrs import frozen

from pipeline import PipelineError
from pipeline.output import printable
from pipeline.results import Interaction, PactResult

PENDING = "pending pact: this failure does not fail the build"
COUNTED = {"failures": "failure", "errors": "error", "skipped": "skipped"}  # a count, and the kind of case it counts


@frozen
class Case:
    """One testcase; `kind` is failure, error or skipped for one that did not pass."""

    classname: str
    name: str
    seconds: float
    kind: str | None = None
    message: str = ""
    text: str = ""
    output: str = ""
    type: str = ""  # the failure's type, such as the check that failed


@frozen
class Suite:
    """One testsuite: its cases and properties."""

    name: str
    cases: tuple[Case, ...]
    properties: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0


def representable(text: str) -> str:
    """Outside text as the body of an element, which XML 1.0 can hold: line by line, control characters escaped."""
    return "\n".join(printable(line) for line in text.splitlines())


def document(name: str, suites: Sequence[Suite]) -> ET.ElementTree:
    """The report: a testsuite per suite, counted, and the counts over them all."""
    root = ET.Element("testsuites", name=name)
    for suite in suites:
        kinds = [case.kind for case in suite.cases]
        counts = {count: str(kinds.count(kind)) for count, kind in COUNTED.items()}
        element = ET.SubElement(root, "testsuite", {"name": printable(suite.name), "tests": str(len(kinds))} | counts)
        element.set("time", f"{suite.seconds:.3f}")
        if suite.properties:
            properties = ET.SubElement(element, "properties")
            for key, value in suite.properties:
                ET.SubElement(properties, "property", name=key, value=printable(value))
        for case in suite.cases:
            attributes = {"classname": printable(case.classname), "name": printable(case.name)}
            item = ET.SubElement(element, "testcase", attributes | {"time": f"{case.seconds:.3f}"})
            if case.output:
                ET.SubElement(item, "system-out").text = representable(case.output)
            if case.kind:
                mark = ET.SubElement(item, case.kind, {"type": case.type} if case.type else {})
                mark.set("message", printable(case.message))
                mark.text = representable(case.text or case.message)
    for count in ("tests", *COUNTED):
        root.set(count, str(sum(int(suite.get(count, "0")) for suite in root)))
    root.set("time", f"{sum(float(suite.get('time', '0')) for suite in root):.3f}")
    return ET.ElementTree(root)


def takes_report(path: Path) -> bool:
    """Whether a report goes to `path` (not to /dev/null); a link, or anything but a regular file, is refused."""
    if path == Path(os.devnull):
        return False
    try:
        unusable = path.is_symlink() or (path.exists() and not path.is_file())
    except OSError as error:  # a name too long, a folder that cannot be searched
        raise PipelineError(f"the report path {printable(path)} cannot be used: {error.strerror}") from None
    if unusable:
        raise PipelineError(f"the report path {printable(path)} is not a regular file: it is left untouched")
    return True


def discard(path: Path) -> None:
    """Remove the report an earlier run left, so that it is never taken for this run's."""
    try:
        if takes_report(path) and path.is_file():
            path.unlink()
    except OSError as error:
        raise PipelineError(f"the report {printable(path)} cannot be removed: {error.strerror}") from None


def write(path: Path, name: str, suites: Sequence[Suite]) -> None:
    """Write the report to a new file beside `path`, then rename it there: two runs never mix."""
    if not takes_report(path):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = document(name, suites)
    ET.indent(tree)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            tree.write(file, encoding="utf-8", xml_declaration=True)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _case(classname: str, item: Interaction, seconds: float) -> Case:
    if item.passed:
        return Case(classname, item.name, seconds)
    kind = "skipped" if item.pending else ("error" if item.did_not_run else "failure")
    message = f"{PENDING}: {item.mismatch}" if item.pending else item.mismatch
    return Case(classname, item.name, seconds, kind, message, item.details or item.mismatch)


def pact_suite(result: PactResult) -> Suite:
    """One pact's testsuite: its interactions, then what could not run (a pact not fetched, publishing)."""
    pact, classname = result.pact, result.pact.consumer or result.pact.label
    timed = sum(item.seconds or 0.0 for item in result.interactions)
    untimed = [item for item in result.interactions if item.seconds is None]
    share = max(result.seconds - timed, 0.0) / len(untimed) if untimed else 0.0
    cases = [_case(classname, item, share if item.seconds is None else item.seconds) for item in result.interactions]
    problems = [("verification", error) for error in result.errors]
    problems += [("publishing the results", error) for error in result.publish_errors]
    cases += [Case(classname, name, 0.0, "error", message) for name, message in problems]
    properties = (
        ("consumer", pact.consumer),
        ("provider", pact.provider),
        ("source", pact.location),
        ("pending", str(pact.pending).lower()),
    )
    return Suite(pact.label, tuple(cases), properties, max(result.seconds, timed))


def write_verification(path: Path, pacts: Sequence[PactResult], problem: str | None = None) -> None:
    """The verification's report over every pact, in the summary's order; one that could not start is one error."""
    suites = [pact_suite(pact) for pact in pacts]
    if problem is not None:
        failed = Case("pact verification", "verification could not start", 0.0, "error", problem)
        suites.insert(0, Suite("pact verification", (failed,)))
    write(path, "pact verification", suites)
