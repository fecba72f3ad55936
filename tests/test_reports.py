"""The JUnit report of a verification and what GitHub Actions shows of it, read back as a CI reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from pipeline.github import markdown
from pipeline.verify import main
from tests.support.runs import environment, verify
from tests.test_verify import PACTS, interaction, pact, write

HOSTILE = "web\n::error::forged"


def suites(path: Path) -> list[TestSuite]:
    return list(JUnitXml.fromfile(str(path)))


def marks(suite: TestSuite) -> list[str]:
    """Each testcase's verdict: passed, or the kind of its mark."""
    return [type(case.result[0]).__name__.lower() if case.result else "passed" for case in suite]


def counts(suite: TestSuite) -> tuple[int, int, int, int]:
    return suite.tests, suite.failures, suite.errors, suite.skipped


def test_a_passing_run_writes_a_testcase_per_interaction(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert main(["--pact-dir", str(PACTS)]) == 0
    report = JUnitXml.fromfile("reports/pact-verification.xml")
    assert (report.tests, report.failures, report.errors, report.skipped) == (12, 0, 0, 0)
    found = list(report)
    assert [suite.name for suite in found] == sorted(path.name for path in PACTS.glob("*.json"))
    assert [len(list(suite)) for suite in found] == [suite.tests for suite in found]
    assert all(set(marks(suite)) == {"passed"} for suite in found)
    first = next(iter(found[1]))
    assert first.classname == "pactflow-example-consumer"
    assert first.name == "a request to get a product given a product with ID 10 exists" and first.time > 0
    assert 0 < sum(case.time for suite in found for case in suite) <= report.time


def test_a_failure_a_refused_state_and_github_actions(tmp_path: Path) -> None:
    wrong = interaction(
        "the wrong name",
        "/product/10",
        200,
        {"id": "10", "type": "CREDIT_CARD", "name": "Wrong"},
        ["a product with ID 10 exists"],
    )
    refused = interaction("a gadget", "/products", 200, [], ["a gadget exists"])
    fine = interaction("a missing product", "/product/404", 404)
    pacts = tmp_path / "pacts"
    pacts.mkdir()
    write(pacts, "web.json", pact(wrong, refused, fine, consumer=HOSTILE))
    summary, report = tmp_path / "summary.md", tmp_path / "out" / "verification.xml"
    env = environment(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), PACT_VERIFICATION_REPORT=str(report))
    done = verify(tmp_path, env, "--pact-dir", str(pacts))
    assert done.returncode == 1
    (suite,) = suites(report)
    assert counts(suite) == (3, 1, 1, 0) and marks(suite) == ["failure", "error", "passed"]
    failure, error = (case.result[0] for case in list(suite)[:2])
    assert (
        isinstance(failure, Failure)
        and failure.message == "$.name: Expected '28 Degrees' (String) to be equal to 'Wrong' (String)"
    )
    assert "$.name" in failure.text and 'expected: "Wrong"' in failure.text
    assert isinstance(error, Error) and "unknown provider state 'a gadget exists'" in error.text
    assert {p.name: p.value for p in suite.properties()}["consumer"] == "web\\x0a::error::forged"
    lines = done.stdout.splitlines()
    annotations = [line for line in lines if line.lstrip().startswith("::")]  # what GitHub reads as commands
    assert len(annotations) == 2 and all(
        line.startswith("::error title=web\\x0a%3A%3Aerror%3A%3Aforged%3A ") for line in annotations
    )
    table = summary.read_text()
    assert "| web\\\\x0a\\:\\:error\\:\\:forged | web.json | 1 | 2 |" in table
    assert "\n::" not in table and "<" not in table


def test_a_pending_pacts_failure_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "pending.json", pact(interaction("created", "/products", 201, None, ["products exist"])))
    assert main(["--pact-url", str(path), "--pending"]) == 0
    ((case,),) = [list(suite) for suite in suites(Path("reports/pact-verification.xml"))]
    (mark,) = case.result
    assert isinstance(mark, Skipped) and mark.message.startswith("pending pact: this failure does not fail the build")


def test_a_run_that_cannot_start_leaves_no_stale_report(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    report = Path("reports/pact-verification.xml")
    report.parent.mkdir()
    report.write_text("<testsuites tests='12'/>")  # an earlier run's
    assert main(["--pact-url", str(tmp_path / "missing.json")]) == 2
    (suite,) = suites(report)
    assert counts(suite) == (1, 0, 1, 0)
    assert "pact file not found" in next(iter(suite)).result[0].message
    assert "Traceback" not in capfd.readouterr().err


def test_a_name_in_the_job_summary_stays_text() -> None:
    cell = markdown("a|b\n`<img src=x>` [x](https://e.example) www.e.example")
    assert cell == r"a\|b\\x0a\`&lt;img src=x&gt;\` \[x\]\(https\://e.example\) www\.e.example"


def test_a_missing_field_is_said_once_with_every_path_where_it_is_missing(tmp_path: Path) -> None:
    """A field the provider lost reads as one line: each distinct mismatch once, after its JSON paths, in the
    summary, the JUnit report and the job summary alike."""
    listing = interaction("all products", "/products", 200, [{"id": n, "nickname": "x"} for n in ("09", "10", "11")])
    listing["response"]["matchingRules"] = {"body": {"$[*].nickname": {"matchers": [{"match": "type"}]}}}  # type: ignore[index]
    path = write(tmp_path, "web.json", pact(listing))
    summary, report = tmp_path / "summary.md", tmp_path / "verification.xml"
    env = environment(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), PACT_VERIFICATION_REPORT=str(report))
    done = verify(tmp_path, env, "--pact-url", str(path))
    line = "$[0], $[1], $[2]: Actual map is missing the following keys: nickname"
    ours = done.stdout.split("\nSummary:\n")[1]  # the verifier's own report, above it, lists each path
    assert done.returncode == 1 and ours.count("missing the following keys") == 2  # the line, its annotation
    assert f"          {line}\n" in ours
    ((case,),) = [list(suite) for suite in suites(report)]
    assert isinstance(case.result[0], Failure) and case.result[0].message == line
    assert markdown(line) in summary.read_text()
