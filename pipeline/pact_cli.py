from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import frozen

from pipeline import PipelineError
from pipeline.output import mask_urls, printable
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.self_verification import SelfVerification


def pact_cli() -> str:
    """The `pact` binary of the pact-python-cli package installed beside this Python."""
    beside = Path(sys.executable).with_name("pact")
    found = str(beside) if beside.exists() else shutil.which("pact")
    if found is None:
        raise PipelineError("the pact CLI is not installed: run `make install`")
    return found


@frozen
class CommandResult:
    """What a `pact` CLI call answered, already scrubbed of credentials."""

    returncode: int
    output: str


# An option and its value(s); None leaves the option out, () gives it with no value (a flag).
Options = Mapping[str, str | Sequence[str] | None]


def pact_arguments(words: Sequence[str], options: Options) -> list[str]:
    """The CLI's argument list: the words, then each option followed by its values as items of their own.
    A value that starts with `-` is refused: the CLI would read it as an option (and its can-i-deploy
    reads `--version` only as an item of its own, so `--version=VALUE` is no way out)."""
    arguments, values = list(words), list(words[1:])
    for option, value in options.items():
        if value is not None:
            given = [value] if isinstance(value, str) else list(value)
            arguments += [option, *given]
            values += given
    for value in values:
        if value.startswith("-"):
            raise PipelineError(
                f"the pact CLI would read {printable(value)!r} as an option: a value cannot start with '-'"
            )
    return arguments


def run_pact(
    settings: Settings, words: Sequence[str], options: Options, *, timeout: float = 300.0, command: str = "broker"
) -> CommandResult:
    """Run `pact broker ...` (or `pact pactflow ...`) with the broker's credentials in its environment,
    never on its command line, and its answer scrubbed of credentials and URL user information."""
    given = {
        "PACT_BROKER_BASE_URL": settings.broker_url,
        "PACT_BROKER_TOKEN": settings.broker_token,
        "PACT_BROKER_USERNAME": settings.broker_username,
        "PACT_BROKER_PASSWORD": settings.broker_password,
    }
    credentials = {name: value for name, value in given.items() if value}
    env = {"PACT_DO_NOT_TRACK": "true", **os.environ, **credentials}
    # the CLI's default of 8 retries waits two minutes on a dead broker
    arguments = pact_arguments(words, {**options, "--retries": str(settings.broker_retries)})
    try:
        done = subprocess.run(
            [pact_cli(), command, *arguments], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise PipelineError(f"pact {command} {words[0]} did not answer within {timeout:.0f} s") from None
    return CommandResult(done.returncode, mask_urls(settings.scrub((done.stdout + done.stderr).strip())))


def first_line(text: str) -> str:
    """The first non-empty line of a CLI's answer, for a one-line error."""
    return next((line.strip(" ❌") for line in text.splitlines() if line.strip(" ❌")), "no output")


def error_line(text: str) -> str:
    """The CLI's first error line (marked ❌), or else its first line: it may say "published" before it fails."""
    errors = [line for line in text.splitlines() if "❌" in line]
    return first_line(errors[0] if errors else text)


def ask_matrix(settings: Settings) -> tuple[bool | None, str]:
    """One can-i-deploy question for this provider version and environment: yes, no or unknown.
    A broker that cannot be reached (a refused connection, an unknown host) fails here at once:
    the CLI's own bounded retries (`--retries`) cover a 429, a 5xx or a timeout."""
    options = {
        "--pacticipant": settings.provider_name,
        "--version": str(settings.provider_version),
        "--to-environment": settings.environment,
        "--output": "json",
    }
    result = run_pact(settings, ["can-i-deploy"], options)
    try:
        summary = json.loads(result.output[result.output.index("{") :])["summary"]
    except (ValueError, KeyError, TypeError):
        unreachable = "IO Error" in result.output  # the CLI's word for a connection it could not make
        where = "could not ask the broker"
        if unreachable:
            where = f"could not reach the broker at {printable(settings.broker_url)}"
        raise PipelineError(f"can-i-deploy {where}: {printable(first_line(result.output))}") from None
    return summary.get("deployable"), str(summary.get("reason", ""))


def can_i_deploy(settings: Settings, retries: int, interval: int) -> tuple[bool | None, str]:
    """Ask the broker whether this provider version can go to the environment: yes, no or unknown.
    Only "unknown" (a verification still missing) is asked again, up to `retries` times, `interval` s apart."""
    deployable, reason = ask_matrix(settings)
    for _ in range(retries):
        if deployable is not None:
            break
        time.sleep(interval)
        deployable, reason = ask_matrix(settings)
    return deployable, reason


def record_deployment(settings: Settings) -> None:
    """Tell the broker this provider version is now deployed to the environment."""
    options = {
        "--pacticipant": settings.provider_name,
        "--version": str(settings.provider_version),
        "--environment": settings.environment,
    }
    result = run_pact(settings, ["record-deployment"], options)
    if result.returncode != 0:
        raise PipelineError(f"record-deployment failed: {first_line(result.output)}")


def create_or_update_webhook(
    settings: Settings, uuid: str, url: str, body: Path, headers: Sequence[str], description: str
) -> None:
    """Create the webhook that starts a provider build when a pact needs verifying."""
    options: Options = {
        "--uuid": uuid,
        "--provider": settings.provider_name,
        "--contract-requiring-verification-published": (),
        "--request": "POST",
        "--header": headers,  # one --header with several values: the CLI takes it only once
        "--data": body.read_text(encoding="utf-8"),
        "--description": description,
    }
    result = run_pact(settings, ["create-or-update-webhook", url], options)
    if result.returncode != 0:
        raise PipelineError(f"create-or-update-webhook failed: {first_line(result.output)}")


def fire_webhook(settings: Settings, uuid: str) -> str:
    """Fire the webhook once and answer what the broker said."""
    result = run_pact(settings, ["test-webhook"], {"--uuid": uuid})
    if result.returncode != 0:
        raise PipelineError(f"test-webhook failed: {first_line(result.output)}")
    return result.output


def publish_provider_contract(settings: Settings, contract: Path, verification: SelfVerification) -> None:
    """Publish the OpenAPI document as the provider contract, with its self-verification (PactFlow)."""
    options = {
        "--provider": settings.provider_name,
        "--provider-app-version": str(settings.provider_version),
        "--content-type": "application/yaml",
        "--verification-exit-code": str(verification.exit_code),
        "--verification-results": str(verification.report),
        "--verification-results-content-type": verification.content_type,
        "--verification-results-format": verification.report_format,
        "--verifier": "schemathesis",
        "--verifier-version": verification.verifier_version,
        "--branch": settings.provider_branch,
        "--build-url": settings.build_url,
    }
    result = run_pact(settings, ["publish-provider-contract", str(contract)], options, command="pactflow")
    if result.returncode != 0:
        raise PipelineError(f"the provider contract was NOT published: {error_line(result.output)}")
