"""Every way a pact arrives: credentials only on the broker's origin, one line for a pact that cannot be
verified, "published" only when it was, message pacts and other providers named, pact text made printable."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.pacts import Pact
from pipeline.results import Interaction, PactResult
from pipeline.verify import main
from pipeline.workers import verdict
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, TOKEN, consumer_pact, environment, make, output, pipeline, verify, verify_pact

GOOD = consumer_pact("web", ("10", "Ten"))


class Capture:
    """A loopback HTTP server that serves given documents by path and records each request's Authorization."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.seen: list[tuple[str, str | None]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                capture.seen.append((self.path, self.headers.get("Authorization")))
                body = capture.documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, path: str, document: object) -> str:
        self.documents[path] = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.url + path


@pytest.fixture
def capture() -> Iterator[Capture]:
    yield from _running(Capture())


@pytest.fixture
def other() -> Iterator[Capture]:
    yield from _running(Capture())


def _running(server: Capture) -> Iterator[Capture]:
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    text = output(done)
    assert done.returncode == 2, text
    (line,) = text.strip().splitlines()
    return line


# class 2: the broker's token goes only to the broker's origin


@pytest.mark.parametrize("entry", ["make verify_pact", "--pact-url"])
def test_the_token_never_reaches_a_pact_url_on_another_origin(
    capture: Capture, other: Capture, tmp_path: Path, entry: str
) -> None:
    foreign = other.serve("/x.json", GOOD)
    env = environment(PACT_BROKER_BASE_URL=capture.url, PACT_BROKER_TOKEN=TOKEN)
    done = (
        make("verify_pact", tmp_path, env | {"PACT_URL": foreign})
        if entry.startswith("make")
        else verify(tmp_path, env, "--pact-url", foreign)
    )
    assert done.returncode == 2, output(done)
    assert (
        f"verify: the pact URL {foreign} is not on the broker {capture.url}: its credentials go only there"
        in output(done)
    )
    assert other.seen == [] and capture.seen == []


def test_a_pact_on_the_broker_origin_is_fetched_with_the_token(capture: Capture, tmp_path: Path) -> None:
    env = environment(PACT_BROKER_BASE_URL=capture.url + "/", PACT_BROKER_TOKEN=TOKEN)
    done = verify(tmp_path, env, "--pact-url", capture.serve("/pacts/x.json", GOOD))
    assert done.returncode == 0, output(done)
    assert capture.seen and {auth for _, auth in capture.seen} == {f"Bearer {TOKEN}"}


def test_without_a_broker_no_credentials_go_anywhere(other: Capture, tmp_path: Path) -> None:
    done = verify(tmp_path, environment(PACT_BROKER_TOKEN=TOKEN), "--pact-url", other.serve("/x.json", GOOD))
    assert done.returncode == 0, output(done)
    assert {auth for _, auth in other.seen} == {None}


# class 4: "published" only where the broker took the results


def test_a_url_that_is_not_a_broker_pact_publishes_nothing_and_says_so(capture: Capture, tmp_path: Path) -> None:
    env = environment(
        PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true", GIT_COMMIT="abc", PACT_URL=capture.serve("/p.json", GOOD)
    )
    done = verify_pact(tmp_path, env)
    text = output(done)
    assert done.returncode == 1 and "results published" not in text
    assert (
        f"the results were NOT published: {capture.url}/p.json is not a broker pact "
        "(it has no pb:publish-verification-results link)" in text
    )
    webhook = pipeline("ci-webhook", tmp_path, env)
    assert webhook.returncode == 1 and "results published" not in output(webhook)


def passed_pact(label: str, interactions: int, published: bool) -> PactResult:
    """A pact whose interactions all passed, as a worker sends it."""
    passed = tuple(Interaction("web", f"request {n}", (), passed=True, pending=False) for n in range(interactions))
    return PactResult(Pact(label, label), interactions=passed, published=published)


def test_the_parallel_claim_follows_what_the_workers_published() -> None:
    results = [passed_pact("a", 1, published=True), passed_pact("b", 2, published=False)]
    assert verdict(results, 2, publish=True) == "verification passed: 3 passed, 0 failed in 2 pacts (2 workers)"
    assert verdict(results[:1] * 2, 2, publish=True).endswith("; results published")


# class 5: a bad pact source is one line and exit 2, in any spelling


def http_pact(**changes: object) -> dict[str, object]:
    document = json.loads(json.dumps(GOOD))
    document["interactions"][0].update(changes)
    return document


BAD_CONTENT = {
    "utf-16": json.dumps(GOOD).encode("utf-16"),
    "bom": b"\xef\xbb\xbf" + json.dumps(GOOD).encode(),
    "invalid-utf-8": b'{"consumer": "\xff"}',
    "nested-100000": b"[" * 100_000 + b"]" * 100_000,
    "nested-body-200": json.dumps(
        http_pact(response={"status": 200, "body": json.loads("[" * 200 + "]" * 200)})
    ).encode(),
    "status-text": json.dumps(http_pact(response={"status": "200"})).encode(),  # the verifier panics on it
    "interactions-object": json.dumps({**GOOD, "interactions": {"a": 1}}).encode(),
    "interaction-text": json.dumps({**GOOD, "interactions": ["x"]}).encode(),
    "description-number": json.dumps(http_pact(description=5)).encode(),
    "no-request": json.dumps({**GOOD, "interactions": [{"description": "x", "response": {"status": 200}}]}).encode(),
    "state-number": json.dumps(http_pact(providerStates=[{"name": 5}])).encode(),
}


@pytest.mark.parametrize("content", BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_a_pact_the_verifier_cannot_read_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert main(["--pact-url", path.as_uri()]) == 2
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"verify: pact file {path} is not a pact the verifier can read: ")
    assert len(captured.err.splitlines()) == 1


@pytest.mark.parametrize(
    ("spelling", "problem"),
    [
        ("file:///nonexistent.json", "pact file not found: /nonexistent.json"),
        ("file://other-host/x.json", "pact URL file://other-host/x.json names a file on another host"),
        ("ftp://127.0.0.1/x.json", "pact source ftp://127.0.0.1/x.json is neither a file nor an http(s) URL"),
        ("http://127.0.0.1:1/x.json", "could not fetch the pact http://127.0.0.1:1/x.json: ConnectError"),
        ("http://[x/a.json", "pact source http://[x/a.json is not a usable URL (Invalid IPv6 URL)"),
        ("file://[x/a.json", "pact source file://[x/a.json is not a usable URL (Invalid IPv6 URL)"),
        (
            "http://127.0.0.1:99999/x.json",
            "pact source http://127.0.0.1:99999/x.json is not a usable URL (Port out of range 0-65535)",
        ),
        ("//[x/a.json", "pact file not found: //[x/a.json"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], spelling: str, problem: str
) -> None:
    assert main(["--pact-url", spelling]) == 2
    captured = capfd.readouterr()
    assert captured.err == f"verify: {problem}\n" and captured.out == ""


def test_make_verify_pact_with_a_missing_file_url_is_one_line(tmp_path: Path) -> None:
    done = make("verify_pact", tmp_path, environment(PACT_URL="file:///nonexistent.json"))
    assert "verify: pact file not found: /nonexistent.json" in output(done) and done.returncode != 0


def test_a_remote_pact_that_is_not_json_is_one_line(capture: Capture, tmp_path: Path) -> None:
    url = capture.serve("/p.json", b"<html>")
    assert one_line(verify(tmp_path, environment(), "--pact-url", url)).startswith(
        f"verify: pact URL {url} is not a pact"
    )


# class 6: a pact for another provider


def test_a_pact_for_another_provider_is_verified_and_named(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({**GOOD, "provider": {"name": "pactflow-example-provider\x1b[2J"}}))
    assert main(["--pact-url", str(path)]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert (
        f"verify: the pact {path} is for the provider 'pactflow-example-provider\\x1b[2J', "
        f"not '{PROVIDER}'; verifying it anyway" in lines
    )


# class 7: message interactions


def message_pact(kind: str) -> dict[str, object]:
    if kind == "v3":
        return {
            "consumer": GOOD["consumer"],
            "provider": GOOD["provider"],
            "messages": [{"description": "a product event", "contents": {}}],
        }
    http = [{**interaction, "type": "Synchronous/HTTP"} for interaction in GOOD["interactions"]]  # type: ignore[attr-defined]
    message = {
        "type": kind,
        "description": "a product event",
        "contents": {"content": {"id": "10"}, "contentType": "application/json"},
    }
    return {**GOOD, "interactions": [*http, message], "metadata": {"pactSpecification": {"version": "4.0"}}}


@pytest.mark.parametrize("kind", ["v3", "Asynchronous/Messages", "Synchronous/Messages"])
def test_a_local_message_pact_is_refused_in_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], kind: str
) -> None:
    document = message_pact(kind)
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(document))
    assert main(["--pact-url", str(path)]) == 2
    assert capfd.readouterr().err == (
        f"verify: the pact {path} holds 1 message interaction(s) (first: 'a product event'): "
        "message interactions are not supported by this provider\n"
    )


def test_a_broker_pact_with_messages_fails_them_by_name_and_the_broker_learns(tmp_path: Path) -> None:
    with BrokerDouble(token=TOKEN) as broker:
        url = broker.add_pact(message_pact("Asynchronous/Messages"))
        env = environment(
            broker, GIT_COMMIT="p-1", GIT_BRANCH="main", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true", PACT_URL=url
        )
        done = pipeline("ci-webhook", tmp_path, env)
        text = output(done)
        assert done.returncode == 1
        assert "FAILED  web: a product event" in text and "not supported: message interaction" in text
        assert [result["success"] for result in broker.verification_results] == [False]


# class 8: pact text never starts a line, escapes the terminal or speaks to GitHub Actions


def test_names_from_a_pact_cannot_inject_lines(tmp_path: Path) -> None:
    hostile = "x\n::error::injected\x1b[31m"
    document = http_pact(
        description=hostile, providerStates=[{"name": "a product with ID 10 exists", "params": {"name": "Ten"}}]
    )
    document["consumer"] = {"name": "::add-mask::web"}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    done = verify_pact(tmp_path, environment(PACT_URL=str(path)))
    text = output(done)
    assert done.returncode == 0, text
    assert "\x1b" not in text and not [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert "passed  ::add-mask::web: x\\x0a::error::injected\\x1b[31m" in text


# class 11: the same broker fault reads the same at every JOBS


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unreachable_broker_reads_the_same_at_every_jobs(tmp_path: Path, jobs: str) -> None:
    with BrokerDouble(token=TOKEN) as broker:
        env = environment(broker, PACT_BROKER_HTTP_RETRIES="0", JOBS=jobs)
    line = one_line(verify(tmp_path, env))
    assert line.startswith("verify: could not reach the broker at http://127.0.0.1:") and line.endswith(
        ": ConnectError"
    )


def test_a_pact_url_with_credentials_of_its_own_beside_the_brokers_is_one_line(tmp_path: Path) -> None:
    """A user and password inside PACT_URL on the broker's origin, with a broker token set: one line, exit 2."""
    env = environment(
        PACT_BROKER_BASE_URL="http://127.0.0.1:9",
        PACT_BROKER_TOKEN=TOKEN,
        PACT_URL="http://someone:url-secret-77@127.0.0.1:9/pacts/x.json",
    )
    done = verify_pact(tmp_path, env)
    text = output(done)
    assert done.returncode != 0
    assert "carries credentials of its own" in text
    assert "url-secret-77" not in text
    assert "Traceback" not in text
