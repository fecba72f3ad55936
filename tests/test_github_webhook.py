"""The broker webhook that starts the GitHub Actions webhook build: its secret, the webhook the real
`pact` CLI creates, the dispatch body the broker renders from it, and the tokens never shown."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.__main__ import main
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, ROOT, TOKEN, environment, output, pipeline

GITHUB_TOKEN = "sentinel-github-7d2e91"
BODY = ROOT / "pactflow" / "github-actions-webhook.json"
# The template variables of the Pact Broker's webhooks (PactAndVerificationParameters).
BROKER_PARAMETERS = {
    "pactbroker.pactUrl",
    "pactbroker.verificationResultUrl",
    "pactbroker.consumerVersionNumber",
    "pactbroker.providerVersionNumber",
    "pactbroker.providerVersionTags",
    "pactbroker.providerVersionBranch",
    "pactbroker.providerVersionDescriptions",
    "pactbroker.consumerVersionTags",
    "pactbroker.consumerVersionBranch",
    "pactbroker.consumerName",
    "pactbroker.providerName",
    "pactbroker.githubVerificationStatus",
    "pactbroker.bitbucketVerificationStatus",
    "pactbroker.azureDevOpsVerificationStatus",
    "pactbroker.gitlabVerificationStatus",
    "pactbroker.consumerLabels",
    "pactbroker.providerLabels",
    "pactbroker.eventName",
    "pactbroker.buildUrl",
    "pactbroker.currentlyDeployedProviderVersionNumber",
}


def github_env(broker: BrokerDouble, **extra: str) -> dict[str, str]:
    return environment(broker, **({"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_REPOSITORY": "acme/provider"} | extra))


def shown(done: subprocess.CompletedProcess[str]) -> str:
    text = output(done)
    assert GITHUB_TOKEN not in text
    return text


def render(body: Any, parameters: dict[str, str]) -> str:
    """The body as the broker sends it: its JSON, each `${pactbroker.x}` replaced by the raw value."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    for name, value in parameters.items():
        text = text.replace("${" + name + "}", value)
    return text


def test_the_secret_the_webhook_and_one_firing(broker: BrokerDouble, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"GITHUB_TOKEN={GITHUB_TOKEN}\nGITHUB_REPOSITORY=acme/provider\n")
    env = environment(broker)
    stored = pipeline("create-github-token-secret", tmp_path, env)
    assert stored.returncode == 0 and "stored GITHUB_TOKEN as the broker secret githubToken" in shown(stored)
    assert broker.secrets == [
        {"name": "githubToken", "description": "GitHub token that may dispatch provider builds", "value": GITHUB_TOKEN}
    ]
    created = pipeline("create-or-update-github-webhook", tmp_path, env)
    assert created.returncode == 0, shown(created)
    ((uuid, webhook),) = broker.webhooks.items()
    assert webhook["provider"] == {"name": PROVIDER} and "consumer" not in webhook
    assert webhook["events"] == [{"name": "contract_requiring_verification_published"}]
    assert webhook["description"] == f"Verify changed pacts of {PROVIDER} on GitHub Actions"
    request = webhook["request"]
    assert (request["method"], request["url"]) == ("POST", "https://api.github.com/repos/acme/provider/dispatches")
    assert request["headers"] == {
        "Content-Type": "application/json",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Authorization": "Bearer ${user.githubToken}",
    }
    assert request["body"] == json.loads(BODY.read_text())
    again = pipeline("create-or-update-github-webhook", tmp_path, env)  # an update, not a second webhook
    assert again.returncode == 0 and list(broker.webhooks) == [uuid]
    fired = pipeline("test-github-webhook", tmp_path, env)
    assert fired.returncode == 0 and f"webhook {uuid} fired" in shown(fired)
    assert broker.webhook_executions == [uuid]
    travis = pipeline("create-or-update-travis-webhook", tmp_path, env | {"TRAVIS_REPO_SLUG": "acme/provider"})
    assert travis.returncode == 0 and len(broker.webhooks) == 2  # side by side: each CI its own webhook
    assert not any(
        GITHUB_TOKEN in json.dumps(request.json) for request in broker.requests if request.path != "/secrets"
    )
    assert not any(
        GITHUB_TOKEN in path.read_text(errors="replace") for path in tmp_path.rglob("*") if path.name != ".env"
    )


def test_the_body_the_broker_renders_is_a_valid_dispatch(broker: BrokerDouble, tmp_path: Path) -> None:
    assert pipeline("create-or-update-github-webhook", tmp_path, github_env(broker)).returncode == 0
    (webhook,) = broker.webhooks.values()
    template = webhook["request"]["body"]
    used = set(re.findall(r"\$\{([^}]*)\}", json.dumps(template)))
    assert used and used <= BROKER_PARAMETERS, used - BROKER_PARAMETERS  # a misspelt variable stays unrendered
    pact_url = f"{broker.base_url}/pacts/provider/{PROVIDER}/consumer/web/pact-version/0f1e/metadata/Y3ZuPTE"
    event = {
        "pactbroker.pactUrl": pact_url,
        "pactbroker.providerVersionNumber": "5e1f0c2d9a7b",
        "pactbroker.providerVersionBranch": "feat/provider",
        "pactbroker.consumerName": "web",
        "pactbroker.consumerVersionNumber": "web-7",
        "pactbroker.providerName": PROVIDER,
    }
    dispatch = json.loads(render(template, event))
    assert set(dispatch) == {"event_type", "client_payload"}
    assert dispatch["event_type"] == "contract_requiring_verification_published"
    payload = dispatch["client_payload"]
    assert len(payload) <= 10  # GitHub refuses a client_payload of more top-level keys
    assert (payload["pact_url"], payload["sha"], payload["branch"]) == (pact_url, "5e1f0c2d9a7b", "feat/provider")
    assert payload["message"] == f"Verify the pact of web web-7 against {PROVIDER} 5e1f0c2d9a7b"
    assert "${" not in json.dumps(dispatch)


@pytest.mark.parametrize(
    ("step", "extra", "line"),
    [
        (
            "create-or-update-github-webhook",
            {"GITHUB_REPOSITORY": ""},
            "set GITHUB_REPOSITORY to the repository to dispatch to, as owner/repo",
        ),
        (
            "create-or-update-github-webhook",
            {"GITHUB_REPOSITORY": "acme/provider/dispatches?x=1"},
            "GITHUB_REPOSITORY must be owner/repo, got 'acme/provider/dispatches?x=1'",
        ),
        (
            "create-or-update-github-webhook",
            {"GITHUB_REPOSITORY": "acme/.."},
            "GITHUB_REPOSITORY must be owner/repo, got 'acme/..'",
        ),
        (
            "create-github-token-secret",
            {"GITHUB_TOKEN": ""},
            "set GITHUB_TOKEN (in the environment or .env) to store it as a broker secret",
        ),
        (
            "create-github-token-secret",
            {"PACT_BROKER_BASE_URL": ""},
            "create-github-token-secret needs a broker: set PACT_BROKER_BASE_URL and a token",
        ),
        (
            "create-or-update-github-webhook",
            {"PACT_BROKER_BASE_URL": ""},
            "create-or-update-github-webhook needs a broker: set PACT_BROKER_BASE_URL and a token",
        ),
        (
            "test-github-webhook",
            {"PACT_BROKER_BASE_URL": ""},
            "test-github-webhook needs a broker: set PACT_BROKER_BASE_URL and a token",
        ),
    ],
)
def test_bad_settings_are_one_line(
    broker: BrokerDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    step: str,
    extra: dict[str, str],
    line: str,
) -> None:
    for name, value in github_env(broker, **extra).items():
        monkeypatch.setenv(name, value)
    assert main([step]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"[{step}] FAILED: {line}\n" and GITHUB_TOKEN not in captured.out
    assert broker.webhooks == {} and broker.secrets == []


@pytest.mark.parametrize(
    ("step", "route", "status", "line"),
    [
        ("create-github-token-secret", "secrets", 403, "storing the secret failed: the broker answered 403"),
        ("create-or-update-github-webhook", "webhook", 500, "create-or-update-webhook failed"),
        ("test-github-webhook", "webhook", 404, "test-webhook failed"),
    ],
)
def test_a_broker_fault_is_one_line_without_a_token(
    broker: BrokerDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    step: str,
    route: str,
    status: int,
    line: str,
) -> None:
    for name, value in github_env(broker, PACT_BROKER_HTTP_RETRIES="0").items():
        monkeypatch.setenv(name, value)
    broker.fail(route, status)
    assert main([step]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"[{step}] FAILED: {line}") and captured.err.count("\n") == 1
    assert GITHUB_TOKEN not in captured.out + captured.err and TOKEN not in captured.out + captured.err
