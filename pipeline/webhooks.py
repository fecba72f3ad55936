from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from attrs import frozen

from pipeline import PipelineError, pact_cli
from pipeline.github import say
from pipeline.settings import Settings

BODIES = Path(__file__).resolve().parent.parent / "pactflow"
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


@frozen
class CiWebhook:
    """How the broker starts a build of one CI when a pact needs verifying, and the token it sends."""

    ci: str
    url: str  # a template: {repository} as owner/repo, {slug} with its `/` encoded
    body: Path
    headers: tuple[str, ...]
    uuid: Callable[[Settings], str]
    repository: Callable[[Settings], str]
    starts: str  # what the webhook does, a template with {repository}
    token_variable: str
    token: Callable[[Settings], str | None]
    secret: str  # the broker secret the Authorization header names as ${user.<secret>}
    secret_description: str


def github_repository(settings: Settings) -> str:
    """The repository the GitHub webhook dispatches to, as `owner/repo`."""
    repository = settings.github_repository
    if not repository:
        raise PipelineError("set GITHUB_REPOSITORY to the repository to dispatch to, as owner/repo")
    if not GITHUB_REPOSITORY.fullmatch(repository) or repository.endswith(("/.", "/..")):
        raise PipelineError(f"GITHUB_REPOSITORY must be owner/repo, got {repository!r}")
    return repository


TRAVIS = CiWebhook(
    ci="Travis CI",
    url="https://api.travis-ci.com/repo/{slug}/requests",
    body=BODIES / "travis-ci-webhook.json",
    headers=(
        "Content-Type: application/json",
        "Accept: application/json",
        "Travis-API-Version: 3",
        "Authorization: token ${user.travisToken}",
    ),
    uuid=lambda settings: settings.webhook_uuid,
    repository=lambda settings: settings.travis_repo,
    starts="starts {repository} builds on contract_requiring_verification_published",
    token_variable="TRAVIS_TOKEN",
    token=lambda settings: settings.travis_token,
    secret="travisToken",
    secret_description="Travis CI API token for provider builds",
)
GITHUB = CiWebhook(
    ci="GitHub Actions",
    url="https://api.github.com/repos/{repository}/dispatches",
    body=BODIES / "github-actions-webhook.json",
    headers=(
        "Content-Type: application/json",
        "Accept: application/vnd.github+json",
        "X-GitHub-Api-Version: 2022-11-28",
        "Authorization: Bearer ${user.githubToken}",
    ),
    uuid=lambda settings: settings.github_webhook_uuid,
    repository=github_repository,
    starts="dispatches contract_requiring_verification_published to {repository}",
    token_variable="GITHUB_TOKEN",
    token=lambda settings: settings.github_token,
    secret="githubToken",
    secret_description="GitHub token that may dispatch provider builds",
)


def create_or_update_webhook(webhook: CiWebhook, settings: Settings) -> None:
    """Create the broker webhook that starts a build of this CI for each pact that needs verifying."""
    repository, uuid = webhook.repository(settings), webhook.uuid(settings)
    url = webhook.url.format(repository=repository, slug=repository.replace("/", "%2F"))
    description = f"Verify changed pacts of {settings.provider_name} on {webhook.ci}"
    pact_cli.create_or_update_webhook(settings, uuid, url, webhook.body, webhook.headers, description)
    say("webhook", f"webhook {uuid} {webhook.starts.format(repository=repository)}")


def fire_webhook(webhook: CiWebhook, settings: Settings) -> None:
    """Fire this CI's webhook once."""
    uuid = webhook.uuid(settings)
    pact_cli.fire_webhook(settings, uuid)
    say("webhook", f"webhook {uuid} fired")


def create_token_secret(webhook: CiWebhook, settings: Settings) -> None:
    """Store this CI's token as the broker secret its webhook's Authorization header refers to."""
    token = webhook.token(settings)
    if not token:
        raise PipelineError(f"set {webhook.token_variable} (in the environment or .env) to store it as a broker secret")
    from pipeline.broker import store_secret  # the HTTP client loads only for the steps that use it

    store_secret(settings, webhook.secret, token, webhook.secret_description)
    say("secret", f"stored {webhook.token_variable} as the broker secret {webhook.secret}")
