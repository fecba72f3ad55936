"""A hostile broker (`tests/support/broker/hostile.py`): links to another origin, redirects, pacts listed as
files or other schemes, answers too deep, too large or too slow. The broker's credentials go nowhere else,
nothing it lists outside http(s) is read, and every bound ends the run with a line, the JUnit report and the
GitHub job summary saying what stopped it; never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline import PipelineError
from pipeline.broker import check_broker_url, client, listed_pacts
from pipeline.github import markdown
from pipeline.pacts import MAX_BYTES, MAX_DEPTH
from pipeline.settings import Settings
from tests.support.broker import BrokerDouble
from tests.support.runs import TOKEN, consumer_pact, environment, output, project_pact, verify

from .budget import full_budget
from .report import Proof

BAIT = "bait-consumer-7f3a"  # the consumer of a pact that must never be read


@pytest.fixture
def elsewhere() -> Iterator[BrokerDouble]:
    """Another origin: a second double, which records whatever reaches it."""
    with BrokerDouble(token=None) as other:
        yield other


def run(broker: BrokerDouble, tmp_path: Path, *args: str, **extra: str) -> tuple[int, str, str, str]:
    """`verify` against the broker on GitHub Actions: its exit code, output, report and job summary."""
    broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1")
    report, summary = tmp_path / "report.xml", tmp_path / "summary.md"
    env = environment(broker, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), **extra)
    done = verify(tmp_path, env | {"PACT_VERIFICATION_REPORT": str(report)}, *args)
    return done.returncode, output(done), report.read_text(), summary.read_text()


def last_word(text: str) -> str:
    """The line a run ends with: its verdict, or the one line that says why it could not start."""
    lines = [line for line in text.splitlines() if line.startswith(("verification ", "verify: "))]
    return lines[-1]


# credentials only to the broker's origin


LEAKS = [
    ("index", "links", "the broker's link {other}"),
    ("for_verification", "links", "the pact URL {other}"),
    ("pact", "links", "pb:publish-verification-results link {other}"),
    ("index", "redirect", "the broker answered 307 to /"),
    ("pact", "redirect", "the server answered 307 to /pacts/"),
]


@pytest.mark.parametrize(("route", "kind", "said"), LEAKS, ids=[f"{route}-{kind}" for route, kind, _ in LEAKS])
def test_nothing_is_sent_to_another_origin_the_broker_names(
    proof: Proof, broker: BrokerDouble, elsewhere: BrokerDouble, tmp_path: Path, route: str, kind: str, said: str
) -> None:
    broker.hostile(route, kind, to=elsewhere.base_url)
    code, text, report, _ = run(broker, tmp_path)
    proof.count("hostile answers")
    assert code == 2
    assert said.format(other=elsewhere.base_url) in last_word(text)
    assert said.format(other=elsewhere.base_url) in report
    assert kind == "redirect" or "its credentials go only there" in last_word(text)
    assert elsewhere.requests == []  # not a request, with or without the token
    assert broker.verification_results == []


@pytest.mark.parametrize("scheme", ["file", "ftp"])
def test_a_listed_pact_that_is_not_http_is_never_read(
    proof: Proof, broker: BrokerDouble, tmp_path: Path, scheme: str
) -> None:
    bait = tmp_path / "bait"
    broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1")
    broker.hostile("for_verification", "links", to=f"{scheme}://{bait}" if scheme == "file" else "ftp://127.0.0.1")
    settings = Settings(broker_url=broker.base_url, broker_token=TOKEN)
    with client(settings) as http:
        listed = listed_pacts(http, settings, None)
    for entry in listed:  # a pact the verifier could read, where the broker points
        path = bait / urlsplit(entry.url).path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(consumer_pact(BAIT, ("10", "Ten"))))
    code, text, report, summary = run(broker, tmp_path)
    proof.count("hostile answers")
    assert code == 2
    assert f"the broker listed the pact {scheme}://" in last_word(text)
    assert "only http(s) URLs are read" in last_word(text)
    assert BAIT not in text + report + summary


@pytest.mark.parametrize(
    "url",
    ["http://broker.example/pacts", "https://broker.example:8443/pacts", "https://broker.example.org/pacts"],
)
def test_an_https_broker_sends_nothing_over_http_or_to_another_host(url: str) -> None:
    settings = Settings(broker_url="https://broker.example", broker_token=TOKEN)
    check_broker_url("https://BROKER.example:443/pacts", settings, "a link")  # the same origin, spelt otherwise
    with pytest.raises(PipelineError, match="its credentials go only there"):
        check_broker_url(url, settings, "a link")
    assert settings.credentials(url) == {}


# bounded answers


def bound(route: str, kind: str, said: str, *, quick: bool = True) -> pytest.ParameterSet:
    """A bounded answer's case; one that repeats a quick case on another route runs at the full budget only."""
    return pytest.param(route, kind, said, id=f"{route}-{kind}", marks=() if quick else full_budget)


BOUNDS = [
    bound(
        "index", "deep", f"the broker's answer to / is not JSON it can read: it nests deeper than {MAX_DEPTH} levels"
    ),
    bound("for_verification", "deep", f"it nests deeper than {MAX_DEPTH} levels"),
    bound("pact", "deep", f"is not a pact the verifier can read: it nests deeper than {MAX_DEPTH} levels", quick=False),
    bound("index", "huge", f"the answer to / is larger than {MAX_BYTES // 2**20} MB", quick=False),
    bound("pact", "huge", f"is larger than {MAX_BYTES // 2**20} MB"),
    bound("index", "trickle", "the broker did not answer within VERIFY_TIMEOUT (2 s)", quick=False),
    bound("pact", "trickle", "the broker did not answer within VERIFY_TIMEOUT (2 s)"),
]


@pytest.mark.parametrize(("route", "kind", "said"), BOUNDS)
def test_a_deep_huge_or_trickling_answer_stops_the_run_and_says_so(
    proof: Proof, broker: BrokerDouble, tmp_path: Path, route: str, kind: str, said: str
) -> None:
    broker.hostile(route, kind)  # a trickle: one byte a second, which no per-read timeout catches
    code, text, report, summary = run(broker, tmp_path, VERIFY_TIMEOUT="2")
    proof.count("hostile answers")
    assert code == 2
    assert said in last_word(text)
    assert said in report
    assert markdown(said) in summary


@pytest.mark.parametrize("route", ["index", "for_verification", "pact"])
def test_a_link_that_is_no_url_is_one_line(proof: Proof, broker: BrokerDouble, tmp_path: Path, route: str) -> None:
    broker.hostile(route, "links", to="http://[not-a-host")
    code, text, report, _ = run(broker, tmp_path)
    proof.count("hostile answers")
    assert code == 2
    assert "http://[not-a-host" in last_word(text) and "is not a usable URL" in last_word(text)
    assert "is not a usable URL" in report
    assert "Traceback" not in text
    assert broker.verification_results == []
