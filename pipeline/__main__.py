from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

from attrs import frozen

from pipeline import PipelineError, build, interruption, leave, stopped_by_sigterm, usage_report, webhooks
from pipeline.github import say, summary_line
from pipeline.output import safe_line
from pipeline.settings import Settings
from pipeline.webhooks import GITHUB, TRAVIS


@frozen
class Step:
    """A step of `python -m pipeline`, and what becomes of it when no broker is configured:
    it runs (and says itself what it skips), it is skipped, or it is refused with `refusal`."""

    run: Callable[[Settings], None]
    without_broker: Literal["runs", "skipped", "refused"]
    refusal: str = "{step} needs a broker: set PACT_BROKER_BASE_URL and a token"


NO_DEPLOY = "nothing deployed: without a broker (PACT_BROKER_BASE_URL) there is no can-i-deploy answer"

STEPS = {
    "ci": Step(build.ci, "runs"),
    "ci-webhook": Step(build.ci_webhook, "runs"),
    "can-i-deploy": Step(build.can_i_deploy, "runs"),  # says why it has no verdict, a pull request's reason first
    "deploy": Step(build.deploy, "refused", refusal=NO_DEPLOY),
    "record-deployment": Step(build.record_deployment, "skipped"),
    "publish-provider-contract": Step(build.publish_provider_contract, "refused"),
    "create-or-update-travis-webhook": Step(partial(webhooks.create_or_update_webhook, TRAVIS), "refused"),
    "test-travis-webhook": Step(partial(webhooks.fire_webhook, TRAVIS), "refused"),
    "create-travis-token-secret": Step(partial(webhooks.create_token_secret, TRAVIS), "refused"),
    "create-or-update-github-webhook": Step(partial(webhooks.create_or_update_webhook, GITHUB), "refused"),
    "test-github-webhook": Step(partial(webhooks.fire_webhook, GITHUB), "refused"),
    "create-github-token-secret": Step(partial(webhooks.create_token_secret, GITHUB), "refused"),
}


def run_step(name: str, settings: Settings) -> None:
    """Run one step, unless its row skips or refuses it for want of a broker."""
    step = STEPS[name]
    if not settings.has_broker and step.without_broker == "skipped":
        say(name, f"skipped: {build.NO_BROKER}")
    elif not settings.has_broker and step.without_broker == "refused":
        raise PipelineError(step.refusal.format(step=name))
    else:
        step.run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one pipeline step; a failure is one line and its exit code, made here for every step."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="The provider's CI steps.")
    parser.add_argument("step", choices=sorted([*STEPS, *usage_report.STEPS]))
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] and given[0] in usage_report.STEPS:  # options of their own, and exit codes 0, 1 and 2
        return usage_report.main(given)
    step = parser.parse_args(argv).step
    settings: Settings | None = None
    try:
        with stopped_by_sigterm():  # a cancelled CI job stops the step as Ctrl-C does
            settings = Settings.from_env()
            run_step(step, settings)
    except PipelineError as error:
        print(safe_line(f"[{step}] FAILED: {error}"), file=sys.stderr, flush=True)
        if settings is not None:
            summary_line(settings, f"{step} FAILED: {error}")
        elif step in ("ci", "ci-webhook"):  # a build that verifies leaves a report, saying why it could not
            from pipeline.verify import report, report_path

            report(None, report_path(), (), problem=str(error))
        return error.exit_code
    except KeyboardInterrupt as stop:
        word, code = interruption(stop)
        print(f"[{step}] {word}", file=sys.stderr)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(leave(main()))
