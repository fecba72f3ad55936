from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline import PipelineError, pact_cli
from pipeline.github import say, summary_line
from pipeline.junit import discard
from pipeline.output import printable
from pipeline.settings import Settings
from pipeline.usage_report import show_usage

if TYPE_CHECKING:
    from starlette.types import ASGIApp

NO_BROKER = "no broker is configured (PACT_BROKER_BASE_URL is not set)"


def step(settings: Settings, name: str, message: str) -> None:
    """One line of a later build step: in the log, and on GitHub Actions in the job summary."""
    say(name, message)
    summary_line(settings, f"{name}: {message}")


def require_version(step: str, settings: Settings) -> None:
    """Refuse a step that names this provider version in the broker when the version is not known."""
    if not settings.provider_version:
        raise PipelineError(f"{step} needs a provider version: set GIT_COMMIT")


def run_verification(settings: Settings) -> None:
    """Verify in this process, as `python -m pipeline.verify` does, and fail with the verification's verdict."""
    # only the steps that verify load the verifier
    from pipeline.trust import system_trust_read_once
    from pipeline.verify import parse_args, verified

    try:
        with system_trust_read_once():
            verification = verified(settings, parse_args([]))
    except PipelineError as error:
        raise PipelineError(f"verification failed (verify: {printable(error)})") from None
    if verification.exit_code != 0:
        raise PipelineError(f"verification failed ({verification.verdict})")


def describe_publishing(settings: Settings) -> str:
    """Where this build's verification results go, in a few words."""
    if not settings.publish_results:
        return "results are not published (PACT_BROKER_PUBLISH_VERIFICATION_RESULTS is not true)"
    return (
        f"results are published as {settings.provider_name} {settings.provider_version} "
        f"on branch {settings.provider_branch}"
    )


def why_no_verdict(settings: Settings) -> str | None:
    """Why this build does not ask can-i-deploy, or None when it does."""
    if settings.pull_request and not settings.publish_results:
        return "a pull-request build publishes no results, so for its commit can-i-deploy could only say no"
    if not settings.has_broker:
        return NO_BROKER
    return None


def ask_can_i_deploy(settings: Settings) -> None:
    """Fail unless the broker says this provider version can go to the environment."""
    require_version("can-i-deploy", settings)
    deployable, reason = pact_cli.can_i_deploy(settings, settings.can_i_deploy_retries, settings.can_i_deploy_interval)
    verdict = {True: "yes", False: "no", None: "unknown"}[deployable]
    message = f"{settings.provider_name} {settings.provider_version} to {settings.environment}: {verdict}. {reason}"
    if deployable is not True:
        raise PipelineError(f"can-i-deploy: {printable(message)}")
    step(settings, "can-i-deploy", printable(message))


def can_i_deploy(settings: Settings) -> None:
    """Ask can-i-deploy, or say why this build does not."""
    reason = why_no_verdict(settings)
    if reason:
        step(settings, "can-i-deploy", f"skipped: {reason}")
        return
    ask_can_i_deploy(settings)


def deploy_app(settings: Settings) -> None:
    """Where a real pipeline deploys the service; this example says what it would do."""
    version = f"{settings.provider_name} {settings.provider_version}"
    step(settings, "deploy", f"would deploy {version} to {settings.environment}")


def record_deployment(settings: Settings) -> None:
    """Record in the broker that this version now runs in the environment."""
    require_version("record-deployment", settings)
    pact_cli.record_deployment(settings)
    version = f"{settings.provider_name} {settings.provider_version}"
    step(settings, "record-deployment", f"recorded {version} in {settings.environment}")


def release(settings: Settings) -> None:
    """Deploy the version can-i-deploy has just allowed, then record the deployment."""
    deploy_app(settings)
    record_deployment(settings)


def reason_not_to_deploy(settings: Settings) -> str | None:
    """Why this build may not deploy (it is not on the main line), or None when it may."""
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
    if reason := reason_not_to_deploy(settings):
        return reason
    if no_verdict:
        return f"there is no can-i-deploy answer: {no_verdict}"
    if settings.separate_deploy_job:
        return "a job of its own deploys (SEPARATE_DEPLOY_JOB is true)"
    return None


def deploy(settings: Settings) -> None:
    """`make deploy` on its own: only from the main line, and only after can-i-deploy says yes
    for this version and environment (its row in the steps refuses it without a broker)."""
    reason = reason_not_to_deploy(settings)
    if reason:
        raise PipelineError(f"nothing deployed: {reason}")
    ask_can_i_deploy(settings)
    release(settings)


def publish_provider_contract(settings: Settings, app: ASGIApp | None = None) -> None:
    """Test the production app (or `app`) against openapi.yaml with schemathesis and publish both
    as the provider contract; fail, after publishing, when the service does not keep its document."""
    require_version("publish-provider-contract", settings)
    # only this step loads schemathesis
    from pipeline.self_verification import CONTRACT, SelfVerificationError, self_verify

    try:
        outcome = self_verify(app, examples=settings.provider_contract_examples)
    except SelfVerificationError as error:
        raise PipelineError(f"the provider contract was NOT published: {error}") from None
    for run in outcome.operations:
        say("self-verification", f"{run.label}: {run.summary}")
        if run.failed_check is not None:
            print(run.details, flush=True)
    verdict = "passed" if outcome.success else f"failed: {outcome.first_failure}"
    try:
        pact_cli.publish_provider_contract(settings, CONTRACT, outcome)
    except PipelineError as error:
        raise PipelineError(f"{error} (its self-verification {verdict})") from None
    published = f"published {CONTRACT.name} as {settings.provider_name} {settings.provider_version}"
    step(settings, "provider-contract", f"{published} with its self-verification ({verdict}; report {outcome.report})")
    if not outcome.success:
        raise PipelineError(
            f"the service does not keep its OpenAPI document: {outcome.first_failure} (report {outcome.report})"
        )


def why_no_provider_contract(settings: Settings) -> str | None:
    """Why the main build does not publish the provider contract, or None when it does."""
    if not settings.has_broker:
        return NO_BROKER
    if not settings.publish_results:
        return "not publishing (PACT_BROKER_PUBLISH_VERIFICATION_RESULTS is not true)"
    if not settings.publish_provider_contract:
        return "PACT_PUBLISH_PROVIDER_CONTRACT is not true (a broker without PactFlow's provider contracts)"
    return None


def ci_webhook(settings: Settings) -> None:
    """The build a changed pact starts: verify only PACT_URL and report; no deploy."""
    discard(settings.report_path)  # refused before its verification, it leaves no earlier run's report
    if not settings.pact_url:
        raise PipelineError("the webhook build needs PACT_URL (the changed pact's URL or a file)")
    if not settings.on_the_broker(settings.pact_url):
        raise PipelineError(
            f"PACT_URL must be a pact on the broker {printable(settings.broker_url)}: its credentials go only there"
        )
    say("verify", f"webhook build: verifying only {printable(settings.pact_url)}; {describe_publishing(settings)}")
    run_verification(settings)
    step(settings, "ci", "can-i-deploy and deploy are not run in a webhook build: it verifies one changed pact")
    step(settings, "provider-contract", "not published in a webhook build: a pact changed, not the provider")


def ci(settings: Settings, contract_app: ASGIApp | None = None) -> None:
    """The main job: verify, publish the provider contract, ask can-i-deploy, and deploy from the main line."""
    if settings.pact_url:
        ci_webhook(settings)
        return
    discard(settings.report_path)
    source = "the broker's pacts for verification" if settings.has_broker else f"the pacts in {settings.pact_dir}/"
    say("verify", f"verifying {source}; {describe_publishing(settings)}")
    if not settings.has_broker:
        say("publish", f"skipped: {NO_BROKER}")
    run_verification(settings)
    show_usage(settings)  # a map that cannot be drawn says why in one line, and fails nothing
    if reason := why_no_provider_contract(settings):
        step(settings, "provider-contract", f"skipped: {reason}")
    else:
        publish_provider_contract(settings, contract_app)
    can_i_deploy(settings)  # when it asks, anything but yes fails the build here
    if reason := why_ci_does_not_deploy(settings):
        step(settings, "deploy", f"skipped: {reason}")
        return
    release(settings)
