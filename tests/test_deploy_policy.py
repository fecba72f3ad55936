"""No deploy without a verdict: `make deploy` asks can-i-deploy itself and deploys only on yes, only
from the main line; the main line's default; a broker that cannot be reached fails at once."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, TOKEN, dead_port, environment, failure, output, pipeline, project_pact
from tests.test_pipeline import broken_pact

WEB = "pactflow-example-consumer"


@pytest.fixture
def broker() -> Iterator[BrokerDouble]:
    with BrokerDouble(token=TOKEN) as double:
        double.add_pact(project_pact(WEB), consumer_version="web-1", branch="main")
        yield double


def matrix_requests(broker: BrokerDouble) -> int:
    return sum(request.path == "/matrix" for request in broker.requests)


def test_deploy_without_a_broker_refuses_in_one_line(tmp_path: Path) -> None:
    done = pipeline("deploy", tmp_path, environment(GIT_COMMIT="prov-1", GIT_BRANCH="master"))
    assert done.returncode != 0 and "would deploy" not in output(done)
    assert (
        failure(done)
        == "[deploy] FAILED: nothing deployed: without a broker (PACT_BROKER_BASE_URL) there is no can-i-deploy answer"
    )


def test_ci_deploys_on_its_own_answer_and_deploy_alone_asks_again(broker: BrokerDouble, tmp_path: Path) -> None:
    env = environment(broker, GIT_COMMIT="prov-1", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    built = pipeline("ci", tmp_path, env)
    assert built.returncode == 0, output(built)
    assert matrix_requests(broker) == 1 and len(broker.deployments) == 1  # the build's own answer is enough
    deployed = pipeline("deploy", tmp_path, env)
    text = output(deployed)
    assert deployed.returncode == 0, text
    assert f"[can-i-deploy] {PROVIDER} prov-1 to production: yes." in text
    assert text.index("[can-i-deploy]") < text.index("[deploy] would deploy")
    assert matrix_requests(broker) == 2 and len(broker.deployments) == 2


def test_deploy_alone_refuses_a_no(broker: BrokerDouble, tmp_path: Path) -> None:
    broker.add_pact(broken_pact(), consumer_version="b-1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-2", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    assert pipeline("ci", tmp_path, env).returncode != 0
    refused = pipeline("deploy", tmp_path, env)
    assert refused.returncode != 0 and "would deploy" not in output(refused)
    assert "[deploy] FAILED: can-i-deploy: " in failure(refused) and "to production: no." in failure(refused)
    assert broker.deployments == []


@pytest.mark.parametrize(
    ("branch", "reason"),
    [("feat/x", "branch 'feat/x' is not the main line 'master'"), (None, "its branch is not known (set GIT_BRANCH)")],
)
def test_deploy_alone_refuses_off_the_main_line(
    broker: BrokerDouble, tmp_path: Path, branch: str | None, reason: str
) -> None:
    broker.add_version(PROVIDER, "prov-3")
    env = environment(broker, GIT_COMMIT="prov-3") | ({"GIT_BRANCH": branch} if branch else {})
    refused = pipeline("deploy", tmp_path, env)
    assert refused.returncode != 0 and reason in failure(refused)
    assert matrix_requests(broker) == 0 and broker.deployments == []


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(cwd),
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "PATH": "/usr/bin:/bin",
        },
    )


def fresh_clone(tmp_path: Path, default_branch: str) -> Path:
    """A clone of a repository whose default branch is `default_branch`: git knows origin/HEAD."""
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    origin.mkdir()
    git(origin, "init", "-q", "-b", default_branch)
    git(origin, "commit", "-q", "--allow-empty", "-m", "first")
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    return clone


def test_a_fresh_clone_of_main_is_on_the_main_line(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path, "main")
    done = pipeline("ci", clone, environment(MAIN_BRANCH=""))
    text = output(done)
    assert done.returncode == 0, text
    assert "not the main line" not in text
    assert "[deploy] skipped: there is no can-i-deploy answer: no broker is configured" in text


def test_the_main_line_is_origin_head_else_main(broker: BrokerDouble, tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path, "trunk")
    env = environment(
        broker, GIT_COMMIT="prov-4", GIT_BRANCH="trunk", MAIN_BRANCH="", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true"
    )
    done = pipeline("ci", clone, env)
    assert done.returncode == 0, output(done)
    assert [d["version"] for d in broker.deployments] == ["prov-4"]
    assert Settings.from_env({}, tmp_path / ".env").main_branch == "main"  # no checkout here: no origin/HEAD
    assert Settings.from_env({"MAIN_BRANCH": "master"}, tmp_path / ".env").main_branch == "master"


def test_only_an_unknown_answer_is_retried_and_a_dead_broker_fails_at_once(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    broker.add_version(PROVIDER, "never-verified")
    retried = {"CAN_I_DEPLOY_RETRIES": "2", "CAN_I_DEPLOY_RETRY_INTERVAL": "0"}
    unknown = pipeline("can-i-deploy", tmp_path, environment(broker, GIT_COMMIT="never-verified") | retried)
    assert unknown.returncode != 0 and ": unknown." in failure(unknown)
    assert matrix_requests(broker) == 3  # asked, then twice again
    dead = environment(
        PACT_BROKER_BASE_URL=f"http://127.0.0.1:{dead_port()}",
        PACT_BROKER_TOKEN=TOKEN,
        GIT_COMMIT="prov-5",
        CAN_I_DEPLOY_RETRIES="5",
        CAN_I_DEPLOY_RETRY_INTERVAL="60",
    )
    started = time.monotonic()
    try:
        refused = pipeline("can-i-deploy", tmp_path, dead)
    finally:
        elapsed = time.monotonic() - started
    assert elapsed < 20, (
        f"a refused connection was retried for {elapsed:.0f} s"
    )  # retried as unknown, it takes 5 minutes
    assert refused.returncode != 0
    assert failure(refused).startswith(
        "[can-i-deploy] FAILED: can-i-deploy could not reach the broker at http://127.0.0.1:"
    )
