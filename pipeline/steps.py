from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import broker
from pipeline.broker import BrokerStepFailed, scrub
from pipeline.redact import mask_urls, printable
from pipeline.settings import Settings, SettingsError
from pipeline.verification.sources import on_the_broker

if TYPE_CHECKING:
    from starlette.types import ASGIApp

WEBHOOK_BODY = Path(__file__).resolve().parent.parent / "pactflow" / "travis-ci-webhook.json"
TRAVIS_HEADERS = (
    "Content-Type: application/json",
    "Accept: application/json",
    "Travis-API-Version: 3",
    "Authorization: token ${user.travisToken}",
)
GITHUB_WEBHOOK_BODY = WEBHOOK_BODY.with_name("github-actions-webhook.json")
GITHUB_HEADERS = (
    "Content-Type: application/json",
    "Accept: application/vnd.github+json",
    "X-GitHub-Api-Version: 2022-11-28",
    "Authorization: Bearer ${user.githubToken}",
)
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


class StepFailed(RuntimeError):
    """A pipeline step failed; the message is one line for a person."""


def say(step: str, message: str) -> None:
    """One line of the pipeline's own report."""
    print(f"[{step}] {message}", flush=True)


def verify(settings: Settings) -> None:
    """Run the verification in its own process, passing its output on with credentials scrubbed."""
    with subprocess.Popen(
        [sys.executable, "-m", "pipeline.verify"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PACT_DO_NOT_TRACK": os.environ.get("PACT_DO_NOT_TRACK", "true")},
    ) as process:
        assert process.stdout is not None
        last = ""
        for line in process.stdout:
            line = mask_urls(scrub(line, settings.secrets))
            print(line, end="", flush=True)
            last = line.strip() or last
    if process.returncode != 0:
        raise StepFailed(f"verification failed ({last})")


def describe_publishing(settings: Settings) -> str:
    """Where this build's verification results go, in a few words."""
    if not settings.publish_results:
        return "results are not published (PACT_BROKER_PUBLISH_VERIFICATION_RESULTS is not true)"
    return f"results are published as {settings.provider_name} {settings.provider_version} on branch {settings.provider_branch}"


def broker_step_can_run(step: str, settings: Settings) -> bool:
    """Whether a broker step for this version can run: skipped offline, refused without a version."""
    if not settings.has_broker:
        say(step, "skipped: no broker is configured (PACT_BROKER_BASE_URL is not set)")
        return False
    if not settings.provider_version:
        raise StepFailed(f"{step} needs a provider version: set GIT_COMMIT")
    return True


def why_no_verdict(settings: Settings) -> str | None:
    """Why this build does not ask can-i-deploy, or None when it does."""
    if settings.pull_request and not settings.publish_results:
        return "a pull-request build publishes no results, so for its commit can-i-deploy could only say no"
    if not settings.has_broker:
        return "no broker is configured (PACT_BROKER_BASE_URL is not set)"
    return None


def ask_can_i_deploy(settings: Settings) -> None:
    """Fail unless the broker says this provider version can go to the environment."""
    if not settings.provider_version:
        raise StepFailed("can-i-deploy needs a provider version: set GIT_COMMIT")
    deployable, reason = broker.can_i_deploy(settings, settings.can_i_deploy_retries, settings.can_i_deploy_interval)
    verdict = {True: "yes", False: "no", None: "unknown"}[deployable]
    message = f"{settings.provider_name} {settings.provider_version} to {settings.environment}: {verdict}. {reason}"
    if deployable is not True:
        raise StepFailed(f"can-i-deploy: {printable(message)}")
    say("can-i-deploy", printable(message))


def can_i_deploy(settings: Settings) -> None:
    """Ask can-i-deploy, or say why this build does not."""
    reason = why_no_verdict(settings)
    if reason:
        say("can-i-deploy", f"skipped: {reason}")
        return
    ask_can_i_deploy(settings)


def deploy_app(settings: Settings) -> None:
    """Where a real pipeline deploys the service; this example says what it would do."""
    say("deploy", f"would deploy {settings.provider_name} {settings.provider_version} to {settings.environment}")


def record_deployment(settings: Settings) -> None:
    """Record in the broker that this version now runs in the environment."""
    if not broker_step_can_run("record-deployment", settings):
        return
    broker.record_deployment(settings)
    say("record-deployment", f"recorded {settings.provider_name} {settings.provider_version} in {settings.environment}")


def release(settings: Settings) -> None:
    """Deploy the version can-i-deploy has just allowed, then record the deployment."""
    deploy_app(settings)
    record_deployment(settings)


def off_main_line(settings: Settings) -> str | None:
    """Why this build is not on the main line, or None when it is."""
    if settings.pull_request:
        return "this is a pull-request build"
    if not settings.provider_branch:
        return "its branch is not known (set GIT_BRANCH)"
    if settings.provider_branch != settings.main_branch:
        return f"branch {settings.provider_branch!r} is not the main line {settings.main_branch!r} (MAIN_BRANCH)"
    return None


def why_ci_does_not_deploy(settings: Settings) -> str | None:
    """Why the main build does not deploy, or None when it does (its can-i-deploy has said yes)."""
    no_verdict = why_no_verdict(settings)
    if reason := off_main_line(settings):
        return reason
    if no_verdict:
        return f"there is no can-i-deploy answer: {no_verdict}"
    if settings.separate_deploy_job:
        return "a job of its own deploys (SEPARATE_DEPLOY_JOB is true)"
    return None


def deploy(settings: Settings) -> None:
    """`make deploy` on its own: only from the main line, and only after can-i-deploy says yes
    for this version and environment."""
    if not settings.has_broker:
        raise StepFailed("nothing deployed: without a broker (PACT_BROKER_BASE_URL) there is no can-i-deploy answer")
    reason = off_main_line(settings)
    if reason:
        raise StepFailed(f"nothing deployed: {reason}")
    ask_can_i_deploy(settings)
    release(settings)


def publish_provider_contract(settings: Settings, app: ASGIApp | None = None) -> None:
    """Test the production app (or `app`) against openapi.yaml with schemathesis and publish both
    as the provider contract; fail, after publishing, when the service does not keep its document.
    Only with a broker: `main` refuses the step without one, and the main build skips it."""
    if not settings.provider_version:
        raise StepFailed("publish-provider-contract needs a provider version: set GIT_COMMIT")
    from pipeline.self_verification import CONTRACT, SelfVerificationError, self_verify  # only this step loads schemathesis

    try:
        outcome = self_verify(app)
    except SelfVerificationError as error:
        raise StepFailed(f"the provider contract was NOT published: {error}") from None
    for run in outcome.operations:
        say("self-verification", f"{run.label}: {run.summary}")
        if run.failed_check is not None:
            print(run.details, flush=True)
    verdict = "passed" if outcome.success else f"failed: {outcome.first_failure}"
    try:
        broker.publish_provider_contract(settings, CONTRACT, outcome)
    except BrokerStepFailed as error:
        raise StepFailed(f"{error} (its self-verification {verdict})") from None
    say("provider-contract", f"published {CONTRACT.name} as {settings.provider_name} {settings.provider_version} "
        f"with its self-verification ({verdict}; report {outcome.report})")  # fmt: skip
    if not outcome.success:
        raise StepFailed(f"the service does not keep its OpenAPI document: {outcome.first_failure} (report {outcome.report})")


def publish_provider_contract_in_ci(settings: Settings, app: ASGIApp | None = None) -> None:
    """Publish the provider contract from a main build with a broker and publishing on; otherwise say why not."""
    if not settings.has_broker:
        say("provider-contract", "skipped: no broker is configured (PACT_BROKER_BASE_URL is not set)")
    elif not settings.publish_results:
        say("provider-contract", "skipped: not publishing (PACT_BROKER_PUBLISH_VERIFICATION_RESULTS is not true)")
    elif not settings.publish_provider_contract:
        say("provider-contract", "skipped: PACT_PUBLISH_PROVIDER_CONTRACT is not true (a broker without PactFlow's provider contracts)")
    else:
        publish_provider_contract(settings, app)


def ci_webhook(settings: Settings) -> None:
    """The build a changed pact starts: verify only PACT_URL and report; no deploy."""
    if not settings.pact_url:
        raise StepFailed("the webhook build needs PACT_URL (the changed pact's URL or a file)")
    if not on_the_broker(settings.pact_url, settings):
        raise StepFailed(f"PACT_URL must be a pact on the broker {printable(settings.broker_url)}: its credentials go only there")
    say("verify", f"webhook build: verifying only {printable(settings.pact_url)}; {describe_publishing(settings)}")
    verify(settings)
    say("ci", "can-i-deploy and deploy are not run in a webhook build: it verifies one changed pact")
    say("provider-contract", "not published in a webhook build: a pact changed, not the provider")


def ci(settings: Settings, contract_app: ASGIApp | None = None) -> None:
    """The main job: verify, publish the provider contract, ask can-i-deploy, and deploy from the main line."""
    if settings.pact_url:
        ci_webhook(settings)
        return
    source = "the broker's pacts for verification" if settings.has_broker else f"the pacts in {settings.pact_dir}/"
    say("verify", f"verifying {source}; {describe_publishing(settings)}")
    if not settings.has_broker:
        say("publish", "skipped: no broker is configured (PACT_BROKER_BASE_URL is not set)")
    verify(settings)
    publish_provider_contract_in_ci(settings, contract_app)
    can_i_deploy(settings)  # when it asks, anything but yes fails the build here
    reason = why_ci_does_not_deploy(settings)
    if reason:
        say("deploy", f"skipped: {reason}")
        return
    release(settings)


def create_or_update_travis_webhook(settings: Settings) -> None:
    """Create the broker webhook that starts a Travis build for each pact that needs verifying."""
    url = f"https://api.travis-ci.com/repo/{settings.travis_repo.replace('/', '%2F')}/requests"
    description = f"Verify changed pacts of {settings.provider_name} on Travis CI"
    broker.create_or_update_webhook(settings, settings.webhook_uuid, url, WEBHOOK_BODY, TRAVIS_HEADERS, description)
    say("webhook", f"webhook {settings.webhook_uuid} starts {settings.travis_repo} builds on contract_requiring_verification_published")


def fire_webhook(settings: Settings, uuid: str) -> None:
    """Fire a webhook once."""
    broker.test_webhook(settings, uuid)
    say("webhook", f"webhook {uuid} fired")


def store_token_secret(settings: Settings, variable: str, token: str | None, secret: str, description: str) -> None:
    """Store a CI token (from `variable`) as the broker secret a webhook's header refers to as ${user.<secret>}."""
    if not token:
        raise StepFailed(f"set {variable} (in the environment or .env) to store it as a broker secret")
    broker.store_secret(settings, secret, token, description)
    say("secret", f"stored {variable} as the broker secret {secret}")


def test_travis_webhook(settings: Settings) -> None:
    """Fire the Travis webhook once."""
    fire_webhook(settings, settings.webhook_uuid)


def create_travis_token_secret(settings: Settings) -> None:
    """Store TRAVIS_TOKEN as the broker secret travisToken."""
    store_token_secret(settings, "TRAVIS_TOKEN", settings.travis_token, "travisToken", "Travis CI API token for provider builds")


def github_repository(settings: Settings) -> str:
    """The repository the GitHub webhook dispatches to, as `owner/repo`."""
    repository = settings.github_repository
    if not repository:
        raise StepFailed("set GITHUB_REPOSITORY to the repository to dispatch to, as owner/repo")
    if not GITHUB_REPOSITORY.fullmatch(repository) or repository.endswith(("/.", "/..")):
        raise StepFailed(f"GITHUB_REPOSITORY must be owner/repo, got {repository!r}")
    return repository


def create_or_update_github_webhook(settings: Settings) -> None:
    """Create the broker webhook that dispatches a GitHub Actions build for each pact that needs verifying."""
    repository = github_repository(settings)
    url = f"https://api.github.com/repos/{repository}/dispatches"
    description = f"Verify changed pacts of {settings.provider_name} on GitHub Actions"
    uuid = settings.github_webhook_uuid
    broker.create_or_update_webhook(settings, uuid, url, GITHUB_WEBHOOK_BODY, GITHUB_HEADERS, description)
    say("webhook", f"webhook {uuid} dispatches contract_requiring_verification_published to {repository}")


def test_github_webhook(settings: Settings) -> None:
    """Fire the GitHub webhook once."""
    fire_webhook(settings, settings.github_webhook_uuid)


def create_github_token_secret(settings: Settings) -> None:
    """Store GITHUB_TOKEN as the broker secret githubToken."""
    store_token_secret(settings, "GITHUB_TOKEN", settings.github_token, "githubToken", "GitHub token that may dispatch provider builds")


STEPS: dict[str, Callable[[Settings], None]] = {
    "ci": ci,
    "ci-webhook": ci_webhook,
    "can-i-deploy": can_i_deploy,
    "deploy": deploy,
    "record-deployment": record_deployment,
    "create-or-update-travis-webhook": create_or_update_travis_webhook,
    "test-travis-webhook": test_travis_webhook,
    "create-travis-token-secret": create_travis_token_secret,
    "create-or-update-github-webhook": create_or_update_github_webhook,
    "test-github-webhook": test_github_webhook,
    "create-github-token-secret": create_github_token_secret,
    "publish-provider-contract": publish_provider_contract,
}

BROKER_ONLY = {
    "publish-provider-contract",
    "create-or-update-travis-webhook", "test-travis-webhook", "create-travis-token-secret",
    "create-or-update-github-webhook", "test-github-webhook", "create-github-token-secret",
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run one pipeline step; a failure is one line and a non-zero exit."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="The provider's CI steps.")
    parser.add_argument("step", choices=sorted(STEPS))
    step = parser.parse_args(argv).step
    try:
        settings = Settings.from_env()
        if step in BROKER_ONLY and not settings.has_broker:
            raise StepFailed(f"{step} needs a broker: set PACT_BROKER_BASE_URL and a token")
        STEPS[step](settings)
    except (StepFailed, BrokerStepFailed, SettingsError) as error:
        print(f"[{step}] FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(f"[{step}] interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
