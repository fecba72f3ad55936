"""The broker pipeline end to end: real Make targets and entry points, the real verifier and
`pact` CLI, against the broker test double."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import (
    PASSWORD,
    PROVIDER,
    ROOT,
    TOKEN,
    environment,
    failure,
    make,
    output,
    pipeline,
    project_pact,
)

WEB = "pactflow-example-consumer"


def broken_pact() -> dict[str, object]:
    """A pact this provider does not satisfy: it expects product 10 to be called 'Wrong'."""
    return {
        "consumer": {"name": "broken-consumer"},
        "provider": {"name": PROVIDER},
        "interactions": [
            {
                "description": "a product with a name the provider does not give",
                "providerStates": [{"name": "a product with ID 10 exists"}],
                "request": {"method": "GET", "path": "/product/10"},
                "response": {"status": 200, "body": {"id": "10", "type": "CREDIT_CARD", "name": "Wrong"}},
            }
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


@pytest.fixture
def seeded(broker: BrokerDouble) -> BrokerDouble:
    """The web app on main, the Python client deployed, and a feature-branch pact of the states consumer."""
    broker.add_pact(project_pact(WEB), consumer_version="web-1", branch="main")
    broker.add_pact(
        project_pact("pactflow-example-consumer-python"), consumer_version="py-1", branch="x", deployed=True
    )
    broker.add_pact(project_pact("example-provider-states"), consumer_version="st-1", branch="feat/states")
    return broker


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_main_build_verifies_the_selected_pacts_publishes_and_deploys(
    seeded: BrokerDouble, tmp_path: Path, jobs: str
) -> None:
    env = environment(
        seeded, GIT_COMMIT="prov-1", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true", JOBS=jobs
    )
    done = pipeline("ci", tmp_path, env)
    text = output(done)
    assert done.returncode == 0, text
    request = seeded.for_verification_requests[-1]
    selectors = request["consumerVersionSelectors"]
    assert {"mainBranch": True} in selectors and {"deployedOrReleased": True} in selectors
    assert {"matchingBranch": True} in selectors and request["providerVersionBranch"] == "master"
    assert request["includePendingStatus"] is True and request["includeWipPactsSince"] == "2020-01-01"
    # 4 interactions: one process either way, with the same results; the list is asked for once
    # (to check the broker answers, to judge whether workers pay off), then its pact URLs are verified;
    # the usage map after the verification asks once more, with the same selection
    assert "workers)" not in text and len(seeded.for_verification_requests) == 2
    assert seeded.for_verification_requests[0] == seeded.for_verification_requests[1]
    published = {result["consumer"]: result for result in seeded.verification_results}
    assert len(seeded.verification_results) == len(published) == 2
    assert set(published) == {WEB, "pactflow-example-consumer-python"}
    assert all(
        r["provider_version"] == "prov-1" and r["branch"] == "master" and r["success"] for r in published.values()
    )
    assert "[can-i-deploy] pactflow-example-provider-python prov-1 to production: yes." in text
    assert [(d["pacticipant"], d["version"], d["environment"]) for d in seeded.deployments] == [
        (PROVIDER, "prov-1", "production")
    ]


def test_a_feature_branch_verifies_its_matching_pacts_and_does_not_deploy(seeded: BrokerDouble, tmp_path: Path) -> None:
    env = environment(
        seeded, GIT_COMMIT="prov-2", GIT_BRANCH="feat/states", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true"
    )
    done = pipeline("ci", tmp_path, env)
    text = output(done)
    assert done.returncode == 0, text
    assert "example-provider-states" in {r["consumer"] for r in seeded.verification_results}
    assert "[deploy] skipped: branch 'feat/states' is not the main line 'master'" in text
    assert seeded.deployments == []


def test_results_are_not_published_unless_asked(seeded: BrokerDouble, tmp_path: Path) -> None:
    done = pipeline("ci", tmp_path, environment(seeded, GIT_COMMIT="prov-3", GIT_BRANCH="feature"))
    assert "results are not published" in output(done)
    assert seeded.verification_results == []


def test_webhook_build_verifies_only_pact_url_and_publishes(seeded: BrokerDouble, tmp_path: Path) -> None:
    url = seeded.add_pact(broken_pact(), consumer_version="b-1")
    url = seeded.add_pact(project_pact(WEB), consumer_version="web-2", branch="feat/x")
    env = environment(
        seeded, PACT_URL=url, GIT_COMMIT="prov-4", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true"
    )
    done = pipeline("ci", tmp_path, env)
    text = output(done)
    assert done.returncode == 0, text
    assert seeded.for_verification_requests == []
    assert [(r["consumer"], r["provider_version"]) for r in seeded.verification_results] == [(WEB, "prov-4")]
    assert "can-i-deploy and deploy are not run in a webhook build" in text
    assert not any(r.path == "/matrix" for r in seeded.requests) and seeded.deployments == []
    assert pipeline("ci-webhook", tmp_path, env).returncode == 0
    assert len(seeded.verification_results) == 2


def test_webhook_build_needs_pact_url(tmp_path: Path) -> None:
    done = pipeline("ci-webhook", tmp_path, environment())
    assert done.returncode != 0
    assert "needs PACT_URL" in output(done)


def test_can_i_deploy_says_no_after_a_failed_verification(broker: BrokerDouble, tmp_path: Path) -> None:
    broker.add_pact(broken_pact(), consumer_version="b-1", branch="main")
    env = environment(broker, GIT_COMMIT="prov-5", GIT_BRANCH="master", PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true")
    done = pipeline("ci", tmp_path, env)
    assert done.returncode == 1
    assert "[ci] FAILED: verification failed (verification FAILED (0 passed, 1 failed)" in output(done)
    assert [r["success"] for r in broker.verification_results] == [False]
    refused = pipeline("can-i-deploy", tmp_path, env)
    assert refused.returncode != 0
    assert "to production: no." in failure(refused)
    assert broker.deployments == []


def test_can_i_deploy_is_unknown_before_any_verification(seeded: BrokerDouble, tmp_path: Path) -> None:
    seeded.add_version(PROVIDER, "never-verified")
    done = pipeline("can-i-deploy", tmp_path, environment(seeded, GIT_COMMIT="never-verified"))
    assert done.returncode != 0
    assert "FAILED: can-i-deploy:" in failure(done) and ": unknown." in failure(done)


def test_record_deployment_and_deploy_targets(seeded: BrokerDouble, tmp_path: Path) -> None:
    seeded.add_version(PROVIDER, "prov-6")
    env = environment(seeded, GIT_COMMIT="prov-6")
    assert pipeline("record-deployment", tmp_path, env).returncode == 0
    refused = pipeline("deploy", tmp_path, env | {"GIT_BRANCH": "master"})  # never verified: can-i-deploy is unknown
    assert refused.returncode != 0 and ": unknown." in failure(refused) and "would deploy" not in output(refused)
    assert len(seeded.deployments) == 1
    unknown = pipeline("record-deployment", tmp_path, environment(seeded, GIT_COMMIT="no-such-version"))
    assert unknown.returncode != 0 and "record-deployment failed" in failure(unknown)


def test_credentials_from_dotenv_are_used_and_the_environment_wins(seeded: BrokerDouble, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"PACT_BROKER_BASE_URL={seeded.base_url}\nPACT_BROKER_TOKEN={TOKEN}\nGIT_COMMIT=from-dotenv\nGIT_BRANCH=master\n"
        "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS=true\n"
    )
    done = pipeline("ci", tmp_path, environment(GIT_COMMIT="from-environment"))
    assert done.returncode == 0, output(done)
    assert {r["provider_version"] for r in seeded.verification_results} == {"from-environment"}
    seeded.add_version(PROVIDER, "from-dotenv")
    assert pipeline("record-deployment", tmp_path, environment()).returncode == 0
    assert seeded.deployments[-1]["version"] == "from-dotenv"


def test_basic_auth_works_and_the_password_never_shows(tmp_path: Path) -> None:
    with BrokerDouble(token=None, username="ci", password=PASSWORD) as broker:
        broker.add_pact(project_pact(WEB), branch="main")
        env = environment(
            GIT_COMMIT="prov-7",
            GIT_BRANCH="master",
            PACT_BROKER_BASE_URL=broker.base_url,
            PACT_BROKER_USERNAME="ci",
            PACT_BROKER_PASSWORD=PASSWORD,
            PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true",
        )
        done = pipeline("ci", tmp_path, env)
        assert done.returncode == 0, output(done)
        assert len(broker.verification_results) == 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_publishing_without_a_version_is_refused(seeded: BrokerDouble, tmp_path: Path, jobs: str) -> None:
    done = pipeline("ci", tmp_path, environment(seeded, PACT_BROKER_PUBLISH_VERIFICATION_RESULTS="true", JOBS=jobs))
    assert done.returncode != 0
    assert output(done).count("cannot publish verification results without a provider version: set GIT_COMMIT") == 2
    assert seeded.verification_results == [] and seeded.for_verification_requests == []


def test_without_a_broker_ci_verifies_offline_and_says_what_it_skipped(tmp_path: Path) -> None:
    done = pipeline("ci", tmp_path, environment(GIT_BRANCH="master", GIT_COMMIT="local"))
    text = output(done)
    assert done.returncode == 0, text
    assert "verification passed: 12 passed, 0 failed" in text
    assert text.index("verification passed") < text.index("## Who uses the API") < text.index("[provider-contract]")
    assert "[publish] skipped: no broker is configured" in text
    assert "[can-i-deploy] skipped: no broker is configured" in text
    assert "[deploy] skipped: there is no can-i-deploy answer: no broker is configured" in text


def test_travis_webhook_secret_and_trigger(broker: BrokerDouble, tmp_path: Path) -> None:
    travis_token = "sentinel-travis-3c7a"
    env = environment(broker, TRAVIS_TOKEN=travis_token, TRAVIS_REPO_SLUG="acme/provider")
    stored = pipeline("create-travis-token-secret", tmp_path, env)
    assert stored.returncode == 0 and travis_token not in output(stored)
    assert broker.secrets == [
        {"name": "travisToken", "description": "Travis CI API token for provider builds", "value": travis_token}
    ]
    assert pipeline("create-or-update-travis-webhook", tmp_path, env).returncode == 0
    (webhook,) = broker.webhooks.values()
    assert webhook["provider"] == {"name": PROVIDER} and "consumer" not in webhook
    assert webhook["events"] == [{"name": "contract_requiring_verification_published"}]
    request = webhook["request"]
    assert request["url"] == "https://api.travis-ci.com/repo/acme%2Fprovider/requests"
    assert request["headers"]["Travis-API-Version"] == "3"
    assert request["headers"]["Authorization"] == "token ${user.travisToken}"
    assert request["body"]["request"]["config"]["env"]["global"] == ["PACT_URL=${pactbroker.pactUrl}"]
    assert pipeline("test-travis-webhook", tmp_path, env).returncode == 0
    assert broker.webhook_executions == list(broker.webhooks)


def test_broker_only_steps_need_a_broker(tmp_path: Path) -> None:
    done = pipeline("create-or-update-travis-webhook", tmp_path, environment())
    assert done.returncode != 0
    assert (
        failure(done) == "[create-or-update-travis-webhook] FAILED: "
        "create-or-update-travis-webhook needs a broker: set PACT_BROKER_BASE_URL and a token"
    )


def test_verify_pact_target_takes_a_file_and_refuses_nothing(tmp_path: Path) -> None:
    """The real `make verify_pact PACT_URL=...`: PACT_URL as a Make variable reaches the step."""
    assert (
        make("verify_pact", tmp_path, environment(), f"PACT_URL={ROOT / 'pacts' / f'{WEB}-{PROVIDER}.json'}").returncode
        == 0
    )
    missing = make("verify_pact", tmp_path, environment())
    assert missing.returncode != 0 and "verify_pact needs PACT_URL" in output(missing)


def test_fake_ci_runs_ci_as_travis_would() -> None:
    plan = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), "fake_ci"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "CI=true GIT_COMMIT=$(git rev-parse --short HEAD)+$(date +%s)" in plan
    assert "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS=true" in plan and " ci" in plan
