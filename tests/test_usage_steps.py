"""`make usage` and `make can_i_remove`: their answers and exit codes, the broker's selection and its faults,
names from pacts kept literal, the job summary, and the map after a build's verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.usage_report import main, show_usage
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, TOKEN, dead_port, environment, make, output, project_pact
from tests.support.usage_pacts import interaction, pact, write


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, **env: str) -> tuple[int, str]:
    """A usage step in this process, as `python -m pipeline` runs it: its exit code and everything it printed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(argv))
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err and TOKEN not in printed.out + printed.err
    return code, printed.out + printed.err


def test_can_i_remove_says_yes_no_or_why_it_cannot_tell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(tmp_path / "pacts", project_pact("pactflow-example-consumer"))
    pacts = ("can-i-remove", "--pact-dir", str(folder))
    assert run(monkeypatch, capsys, *pacts, OPERATION="head  /products/{id}") == (
        0,
        "[can-i-remove] yes: no consumer relies on the operation HEAD /products/{id} in the 1 pact(s), "
        f"3 interaction(s), from {folder}/\n",
    )
    code, text = run(monkeypatch, capsys, *pacts, OPERATION="", FIELD="Product.type")
    assert code == 1
    assert text.splitlines() == [
        "[can-i-remove] no: 1 consumer(s) rely on the field Product.type in the 1 pact(s), 3 interaction(s), "
        f"from {folder}/:",
        "  - pactflow-example-consumer: 'a request to get a product given a product with ID 10 exists', "
        "'a request to get all products given products exist'",
    ]
    code, text = run(monkeypatch, capsys, *pacts, FIELD="Product.colour")
    assert code == 2 and text.startswith("[can-i-remove] 'Product.colour': no such field in example_provider/")
    assert "its fields: Product.id, Product.type, Product.name, Error.error" in text and len(text.splitlines()) == 1
    code, text = run(monkeypatch, capsys, *pacts, FIELD="")
    assert code == 2 and "FIELD=Schema.property or OPERATION=" in text


def test_pacts_that_cannot_be_read_give_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path / "broken", {"consumer": {"name": "x"}, "provider": {"name": PROVIDER}})
    code, text = run(monkeypatch, capsys, "can-i-remove", "--pact-dir", str(broken), FIELD="Product.type")
    assert (code, text) == (
        2,
        f"[can-i-remove] cannot tell: pact file {broken}/0.json is not a pact the verifier can read: "
        "it has no list of interactions\n",
    )
    (tmp_path / "empty").mkdir()
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(tmp_path / "empty"))
    assert code == 2 and text == f"[usage] cannot tell: no pact files (*.json) in the folder {tmp_path}/empty\n"


def test_names_from_pacts_stay_literal_in_markdown_mermaid_json_and_the_job_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = 'evil|**x**<script>\x1b[31m"]\n::error::'
    folder = write(
        tmp_path / "pacts", pact(hostile, interaction(f"desc {hostile}", "/orders", {hostile: 1}, states=(hostile,)))
    )
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(folder), **env)
    assert code == 0 and summary.read_text().count(r'evil\|\*\*x\*\*&lt;script&gt;\\x1b\[31m"\]\\x0a\:\:error\:\:') == 6
    assert "\x1b" not in text + summary.read_text() and "<script>" not in text + summary.read_text()
    assert '  c0["evil#124;#42;#42;x#42;#42;#60;script#62;#92;x1b#91;31m#34;#93;#92;x0a#58;#58;error#58;#58;"]' in text
    assert all(not line.startswith("::") for line in text.splitlines())
    code, text = run(monkeypatch, capsys, "usage", "--pact-dir", str(folder), "--format", "json")
    facts = json.loads(text)
    assert facts["undeclared_states"][0]["name"] == r'evil|**x**<script>\x1b[31m"]\x0a::error::'
    assert "\x1b" not in text and "\n::" not in text


def test_the_broker_selection_names_each_consumer_branch_or_environment(
    broker: BrokerDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
    broker.add_pact(
        project_pact("pactflow-example-consumer-python"), consumer_version="py-1", branch="x", deployed=True
    )
    broker.add_pact(project_pact("example-provider-states"), consumer_version="st-1", branch="feat/x", wip=True)
    env = {"PACT_BROKER_BASE_URL": broker.base_url, "PACT_BROKER_TOKEN": TOKEN, "GIT_BRANCH": "feat"}
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", **env)
    assert code == 1
    assert (
        "  - pactflow-example-consumer (latest version of pactflow-example-consumer from branch 'main' (web-1)): "
        in text
    )
    assert (
        "  - pactflow-example-consumer-python (version(s) of pactflow-example-consumer-python currently deployed "
        "to production (py-1)): 'a request to get a product given a product with ID 10 exists'" in text
    )
    assert (
        "  - example-provider-states (work in progress: latest version of example-provider-states from branch "
        "'feat/x'): 'a request for a product at a path" in text
    )
    request = broker.for_verification_requests[-1]
    assert request["consumerVersionSelectors"] == [
        {"mainBranch": True},
        {"deployedOrReleased": True},
        {"matchingBranch": True},
    ]
    fetched = [r for r in broker.requests if r.method == "GET" and "/pact-version/" in r.path]
    assert len(fetched) == 3 and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fetched)


def test_a_broker_that_cannot_be_reached_refuses_or_names_pacts_elsewhere_gives_no_answer(
    broker: BrokerDouble, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", PACT_BROKER_BASE_URL=dead)
    assert (code, text) == (2, f"[can-i-remove] cannot tell: could not reach the broker at {dead}: ConnectError\n")
    broker.add_pact(project_pact("pactflow-example-consumer"))
    env = {"PACT_BROKER_BASE_URL": broker.base_url, "PACT_BROKER_TOKEN": "wrong"}
    code, text = run(monkeypatch, capsys, "can-i-remove", FIELD="Product.name", **env)
    assert code == 2 and text.startswith("[can-i-remove] cannot tell: ") and "answered 401" in text
    elsewhere = broker.base_url.replace("127.0.0.1", "localhost")  # the broker's links name 127.0.0.1
    env = {"PACT_BROKER_BASE_URL": elsewhere, "PACT_BROKER_TOKEN": TOKEN}
    code, text = run(monkeypatch, capsys, "usage", **env)
    assert code == 2 and "is not on the broker" in text and "its credentials go only there" in text
    assert not any("/pact-version/" in request.path for request in broker.requests)


def test_a_map_that_cannot_be_drawn_says_why_and_fails_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_DIR", str(tmp_path))
    show_usage(Settings.from_env())
    assert capsys.readouterr().out == f"[usage] no usage map: no pact files (*.json) in the folder {tmp_path}\n"


def test_make_targets_take_their_question_as_data(tmp_path: Path) -> None:
    env = environment()
    done = make("can_i_remove", tmp_path, env, "OPERATION=GET /products/{id}$(shell touch hacked)")
    assert done.returncode == 2 and not (tmp_path / "hacked").exists()
    assert "[can-i-remove] 'GET /products/{id}$(shell touch hacked)': no such operation" in output(done)
    done = make("usage", tmp_path, env)
    assert done.returncode == 0 and "Operations no consumer calls: HEAD /products" in output(done)
