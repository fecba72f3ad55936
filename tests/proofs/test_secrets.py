"""Credentials never show: sentinel values set through `.env` or the environment appear in no
output of any step or make target, in no file the project writes, and in no error.

At the quick budget, each kind of credentials (token, basic) comes by one source (`.env`, the
environment) and goes through every step but those whose path another step takes, and the calls
to a dead broker retry once; at the full budget every kind comes by every source through every
step, and the calls retry as often as by default."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import (
    ROOT,
    consumer_pact,
    dead_port,
    environment,
    make,
    named_products,
    pipeline,
    project_pact,
    verify,
)

from .budget import BUDGET, full_budget, sized
from .report import Proof

TOKEN = "sentinel-token-1b7f3e90"
USER = "ci-user"
PASSWORD = "sentinel-password-62c0d4aa"
TRAVIS = "sentinel-travis-9e41"
GITHUB = "sentinel-github-3c58a7"
SENTINELS = (TOKEN, PASSWORD, TRAVIS, GITHUB)

STEPS = (
    "verify",
    "ci-webhook",
    "can-i-deploy",
    "record-deployment",
    "deploy",
    "publish-provider-contract",
    "create-travis-token-secret",
    "create-or-update-travis-webhook",
    "test-travis-webhook",
    "create-github-token-secret",
    "create-or-update-github-webhook",
    "test-github-webhook",
)
# At the quick budget, leave out the steps whose path another step takes: `verify` of PACT_URL
# verifies and publishes as `ci-webhook` does, `deploy` records the deployment, `ci`
# publishes the provider contract, and the GitHub webhook steps make the same `pact` CLI calls as
# the Travis ones.
QUICK_STEPS = tuple(
    step
    for step in STEPS
    if step
    not in (
        "verify",
        "record-deployment",
        "publish-provider-contract",
        "create-or-update-github-webhook",
        "test-github-webhook",
    )
)
# At the full budget the failures of these steps too; at the quick one their `pact` CLI calls fail as the others do.
MORE_FAILING = (("create-github-token-secret", "1"), ("publish-provider-contract", "1")) if BUDGET == "full" else ()
VERIFYING = ("verify", "ci-webhook")  # the steps that verify PACT_URL and publish its result


def run(step: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline.verify` for "verify", else `python -m pipeline <step>`, in this process."""
    return verify(cwd, env) if step == "verify" else pipeline(step, cwd, env)


def credentials(broker_url: str, auth: str) -> dict[str, str]:
    values = {
        "PACT_BROKER_BASE_URL": broker_url,
        "TRAVIS_TOKEN": TRAVIS,
        "GITHUB_TOKEN": GITHUB,
        "GITHUB_REPOSITORY": "acme/provider",
    }
    if auth == "token":
        return values | {"PACT_BROKER_TOKEN": TOKEN}
    return values | {"PACT_BROKER_USERNAME": USER, "PACT_BROKER_PASSWORD": PASSWORD}


@pytest.fixture(params=["token", "basic"])
def auth(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def broker(auth: str) -> Iterator[BrokerDouble]:
    double = (
        BrokerDouble(token=TOKEN) if auth == "token" else BrokerDouble(token=None, username=USER, password=PASSWORD)
    )
    with double:
        yield double


def assert_no_sentinel(proof: Proof, text: str) -> None:
    proof.count("outputs checked")
    for sentinel in SENTINELS:
        assert sentinel not in text
    assert "Traceback" not in text


def assert_no_file_holds_a_sentinel(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and path.name != ".env":
            text = path.read_text(errors="replace")
            assert not any(sentinel in text for sentinel in SENTINELS), path


@pytest.mark.parametrize(
    ("auth", "source"),
    [
        ("token", "dotenv"),
        pytest.param("token", "environment", marks=full_budget),
        pytest.param("basic", "dotenv", marks=full_budget),
        ("basic", "environment"),
    ],
    indirect=["auth"],
)
def test_no_step_shows_a_credential(proof: Proof, broker: BrokerDouble, auth: str, source: str, tmp_path: Path) -> None:
    url = broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
    broker.add_pact(
        consumer_pact("large-consumer", *named_products(40, "Large")), consumer_version="l-1", branch="main"
    )
    secrets = credentials(broker.base_url, auth)
    env = environment(
        GIT_COMMIT="prov-1",
        GIT_BRANCH="master",
        PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
        PACT_URL=url,
        PACT_PUBLISH_PROVIDER_CONTRACT="true",
    )
    if source == "dotenv":
        (tmp_path / ".env").write_text("".join(f"{key}={value}\n" for key, value in secrets.items()))
    else:
        env |= secrets
    ci = pipeline("ci", tmp_path, env | {"PACT_URL": ""})
    assert ci.returncode == 0, ci.stdout + ci.stderr
    assert_no_sentinel(proof, ci.stdout + ci.stderr)
    steps = STEPS if BUDGET == "full" else QUICK_STEPS
    for step in steps:
        done = run(step, tmp_path, env)
        assert done.returncode == 0, (step, done.stdout + done.stderr)
        assert_no_sentinel(proof, done.stdout + done.stderr)
    in_workers = verify(tmp_path, env | {"PACT_URL": "", "JOBS": "2"})
    assert in_workers.returncode == 0 and "(2 workers)" in in_workers.stdout, in_workers.stdout + in_workers.stderr
    assert_no_sentinel(proof, in_workers.stdout + in_workers.stderr)
    assert {secret["value"] for secret in broker.secrets} == {TRAVIS, GITHUB}  # the steps did use the credentials
    published = 2 + sum(step in VERIFYING for step in steps) + 2  # ci (2 pacts), each of VERIFYING, workers (2)
    assert len(broker.verification_results) == published
    assert_no_file_holds_a_sentinel(tmp_path)


def test_failures_do_not_show_a_credential(proof: Proof, auth: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{dead_port()}"
    env = environment(None, GIT_COMMIT="prov-1", GIT_BRANCH="master", **credentials(dead, auth))
    env["PACT_BROKER_HTTP_RETRIES"] = str(sized(1, 3))  # each call to the dead broker retries, and waits for it
    for step, jobs in (
        ("ci", "1"),
        ("ci", "2"),
        ("can-i-deploy", "1"),
        ("record-deployment", "1"),
        ("create-travis-token-secret", "1"),
        *MORE_FAILING,
    ):
        done = pipeline(step, tmp_path, env | {"CAN_I_DEPLOY_RETRIES": "0", "JOBS": jobs})
        assert done.returncode != 0
        assert_no_sentinel(proof, done.stdout + done.stderr)
    with BrokerDouble(token="a-different-token") as broker:
        broker.add_pact(project_pact("pactflow-example-consumer"), branch="main")
        for step, jobs in (
            ("ci", "1"),
            ("ci", "2"),
            ("record-deployment", "1"),
            ("create-travis-token-secret", "1"),
            *MORE_FAILING,
        ):
            done = pipeline(step, tmp_path, env | credentials(broker.base_url, auth) | {"JOBS": jobs})
            assert done.returncode != 0
            assert_no_sentinel(proof, done.stdout + done.stderr)
    assert_no_file_holds_a_sentinel(tmp_path)


def test_dotenv_is_never_committed() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".gitignore does not cover .env"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=ROOT, capture_output=True, check=False)
    assert tracked.returncode != 0, ".env is committed"


def with_user_info(url: str, user: str, password: str) -> str:
    """The URL with `user:password@` in it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


def test_credentials_inside_urls_are_used_and_never_show(proof: Proof, tmp_path: Path) -> None:
    """A broker URL with `user:password@` works as basic auth; PACT_URL with them is fetched with them;
    neither shows in any output, the command lines make echoes included."""
    with BrokerDouble(token=None, username=USER, password=PASSWORD) as broker:
        url = broker.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
        env = environment(
            GIT_COMMIT="prov-1",
            GIT_BRANCH="master",
            PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
            PACT_BROKER_BASE_URL=with_user_info(broker.base_url, USER, PASSWORD),
            TRAVIS_TOKEN=TRAVIS,
        )
        for target in (
            "ci",
            "ci_webhook",
            "can_i_deploy",
            "deploy",
            "create_travis_token_secret",
            "create_or_update_travis_webhook",
        ):
            done = make(target, tmp_path, env | {"PACT_URL": url if target == "ci_webhook" else ""}, "PYTEST=true")
            assert done.returncode == 0, (target, done.stdout + done.stderr)
            assert_no_sentinel(proof, done.stdout + done.stderr)
        assert len(broker.verification_results) == 2 and len(broker.deployments) == 2
        no_broker = environment(PACT_URL=with_user_info(url, USER, PASSWORD))
        for target in ("ci_webhook", "verify_pact"):
            done = make(target, tmp_path, no_broker)
            assert done.returncode == 0, (target, done.stdout + done.stderr)
            assert target != "ci_webhook" or "verifying only http://***@127.0.0.1" in done.stdout
            assert_no_sentinel(proof, done.stdout + done.stderr)
    assert_no_file_holds_a_sentinel(tmp_path)
