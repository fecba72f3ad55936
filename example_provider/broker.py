from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from attrs import frozen

from example_provider.settings import Settings


class BrokerStepFailed(RuntimeError):
    """A broker step did not succeed; the message is one line for a person."""


def scrub(text: str, secrets: Sequence[str]) -> str:
    """The text with every credential replaced by asterisks."""
    for secret in secrets:
        text = text.replace(secret, "********")
    return text


def pact_cli() -> str:
    """The `pact` binary of the pact-python-cli package installed beside this Python."""
    beside = Path(sys.executable).with_name("pact")
    found = str(beside) if beside.exists() else shutil.which("pact")
    if found is None:
        raise BrokerStepFailed("the pact CLI is not installed: run `make install`")
    return found


def broker_environment(settings: Settings) -> dict[str, str]:
    """The broker settings as the `pact` CLI reads them from its environment."""
    values = {
        "PACT_BROKER_BASE_URL": settings.broker_url,
        "PACT_BROKER_TOKEN": settings.broker_token,
        "PACT_BROKER_USERNAME": settings.broker_username,
        "PACT_BROKER_PASSWORD": settings.broker_password,
    }
    return {key: value for key, value in values.items() if value}


@frozen
class CommandResult:
    """What a `pact` CLI call answered, already scrubbed of credentials."""

    returncode: int
    output: str


def run_pact(settings: Settings, *args: str, timeout: float = 300.0) -> CommandResult:
    """Run `pact broker ...` with the broker's credentials in its environment, never on its command line."""
    env = {"PACT_DO_NOT_TRACK": "true", **os.environ, **broker_environment(settings)}
    retries = ("--retries", str(settings.broker_retries))  # the CLI's default of 8 waits two minutes on a dead broker
    try:
        done = subprocess.run(
            [pact_cli(), "broker", *args, *retries], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise BrokerStepFailed(f"pact broker {args[0]} did not answer within {timeout:.0f} s") from None
    return CommandResult(done.returncode, scrub((done.stdout + done.stderr).strip(), settings.secrets))


def first_line(text: str) -> str:
    """The first non-empty line of a CLI's answer, for a one-line error."""
    return next((line.strip(" ❌") for line in text.splitlines() if line.strip(" ❌")), "no output")


def can_i_deploy(settings: Settings, retries: int, interval: int) -> tuple[bool | None, str]:
    """Ask the broker whether this provider version can go to the environment: yes, no or unknown."""
    result = run_pact(
        settings,
        "can-i-deploy",
        "--pacticipant", settings.provider_name,
        "--version", str(settings.provider_version),
        "--to-environment", settings.environment,
        "--retry-while-unknown", str(retries),
        "--retry-interval", str(interval),
        "--output", "json",
        timeout=60.0 + retries * (interval + 30),
    )  # fmt: skip
    try:
        summary = json.loads(result.output[result.output.index("{") :])["summary"]
    except (ValueError, KeyError, TypeError):
        raise BrokerStepFailed(f"can-i-deploy could not ask the broker: {first_line(result.output)}") from None
    return summary.get("deployable"), str(summary.get("reason", ""))


def record_deployment(settings: Settings) -> None:
    """Tell the broker this provider version is now deployed to the environment."""
    result = run_pact(
        settings,
        "record-deployment",
        "--pacticipant", settings.provider_name,
        "--version", str(settings.provider_version),
        "--environment", settings.environment,
    )  # fmt: skip
    if result.returncode != 0:
        raise BrokerStepFailed(f"record-deployment failed: {first_line(result.output)}")


def create_or_update_webhook(settings: Settings, uuid: str, url: str, body: Path) -> None:
    """Create the webhook that starts a provider build when a pact needs verifying."""
    result = run_pact(
        settings,
        "create-or-update-webhook", url,
        "--uuid", uuid,
        "--provider", settings.provider_name,
        "--contract-requiring-verification-published",
        "--request", "POST",
        "--header",  # one --header with several values: the CLI takes it only once
        "Content-Type: application/json",
        "Accept: application/json",
        "Travis-API-Version: 3",
        "Authorization: token ${user.travisToken}",
        "--data", body.read_text(encoding="utf-8"),
        "--description", f"Verify changed pacts of {settings.provider_name} on Travis CI",
    )  # fmt: skip
    if result.returncode != 0:
        raise BrokerStepFailed(f"create-or-update-webhook failed: {first_line(result.output)}")


def test_webhook(settings: Settings, uuid: str) -> str:
    """Fire the webhook once and answer what the broker said."""
    result = run_pact(settings, "test-webhook", "--uuid", uuid)
    if result.returncode != 0:
        raise BrokerStepFailed(f"test-webhook failed: {first_line(result.output)}")
    return result.output


def store_secret(settings: Settings, name: str, value: str, description: str) -> None:
    """Store a value as a PactFlow secret (the `pact` CLI has no command for secrets)."""
    auth = (
        {"headers": {"Authorization": f"Bearer {settings.broker_token}"}}
        if settings.broker_token
        else {"auth": (settings.broker_username or "", settings.broker_password or "")}
    )
    try:
        response = httpx.post(
            f"{str(settings.broker_url).rstrip('/')}/secrets",
            json={"name": name, "description": description, "value": value},
            timeout=30.0,
            **auth,  # type: ignore[arg-type]
        )
    except httpx.HTTPError as error:
        raise BrokerStepFailed(f"storing the secret failed: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise BrokerStepFailed(f"storing the secret failed: the broker answered {response.status_code}")
