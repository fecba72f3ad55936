from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from attrs import frozen

from pipeline.redact import mask_urls, printable
from pipeline.settings import Settings
from pipeline.verification.documents import interactions_of
from pipeline.verification.selection import selection

if TYPE_CHECKING:
    from pipeline.self_verification import SelfVerification


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
            raise BrokerStepFailed(f"the pact CLI would read {printable(value)!r} as an option: a value cannot start with '-'")
    return arguments


def run_pact(settings: Settings, words: Sequence[str], options: Options, *, timeout: float = 300.0, command: str = "broker") -> CommandResult:
    """Run `pact broker ...` (or `pact pactflow ...`) with the broker's credentials in its environment,
    never on its command line, and its answer scrubbed of credentials and URL user information."""
    env = {"PACT_DO_NOT_TRACK": "true", **os.environ, **broker_environment(settings)}
    arguments = pact_arguments(words, {**options, "--retries": str(settings.broker_retries)})  # the CLI's default of 8 waits two minutes on a dead broker
    try:
        done = subprocess.run([pact_cli(), command, *arguments], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BrokerStepFailed(f"pact {command} {words[0]} did not answer within {timeout:.0f} s") from None
    return CommandResult(done.returncode, mask_urls(scrub((done.stdout + done.stderr).strip(), settings.secrets)))


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
    result = run_pact(settings, ["can-i-deploy"], {
        "--pacticipant": settings.provider_name,
        "--version": str(settings.provider_version),
        "--to-environment": settings.environment,
        "--output": "json",
    })  # fmt: skip
    try:
        summary = json.loads(result.output[result.output.index("{") :])["summary"]
    except (ValueError, KeyError, TypeError):
        unreachable = "IO Error" in result.output  # the CLI's word for a connection it could not make
        where = f"could not reach the broker at {printable(settings.broker_url)}" if unreachable else "could not ask the broker"
        raise BrokerStepFailed(f"can-i-deploy {where}: {printable(first_line(result.output))}") from None
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
    result = run_pact(settings, ["record-deployment"], {
        "--pacticipant": settings.provider_name,
        "--version": str(settings.provider_version),
        "--environment": settings.environment,
    })  # fmt: skip
    if result.returncode != 0:
        raise BrokerStepFailed(f"record-deployment failed: {first_line(result.output)}")


def create_or_update_webhook(
    settings: Settings, uuid: str, url: str, body: Path, headers: Sequence[str], description: str
) -> None:
    """Create the webhook that starts a provider build when a pact needs verifying."""
    result = run_pact(settings, ["create-or-update-webhook", url], {
        "--uuid": uuid,
        "--provider": settings.provider_name,
        "--contract-requiring-verification-published": (),
        "--request": "POST",
        "--header": headers,  # one --header with several values: the CLI takes it only once
        "--data": body.read_text(encoding="utf-8"),
        "--description": description,
    })  # fmt: skip
    if result.returncode != 0:
        raise BrokerStepFailed(f"create-or-update-webhook failed: {first_line(result.output)}")


def test_webhook(settings: Settings, uuid: str) -> str:
    """Fire the webhook once and answer what the broker said."""
    result = run_pact(settings, ["test-webhook"], {"--uuid": uuid})
    if result.returncode != 0:
        raise BrokerStepFailed(f"test-webhook failed: {first_line(result.output)}")
    return result.output


def publish_provider_contract(settings: Settings, contract: Path, verification: SelfVerification) -> None:
    """Publish the OpenAPI document as the provider contract, with its self-verification (PactFlow)."""
    result = run_pact(settings, ["publish-provider-contract", str(contract)], {
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
    }, command="pactflow")  # fmt: skip
    if result.returncode != 0:
        raise BrokerStepFailed(f"the provider contract was NOT published: {error_line(result.output)}")


def http_client(settings: Settings) -> httpx.Client:
    """An HTTP client for the broker, with its credentials (a bearer token, or HTTP basic) and retries."""
    credentials: dict[str, Any] = (
        {"headers": {"Authorization": f"Bearer {settings.broker_token}"}}
        if settings.broker_token
        else {"auth": (settings.broker_username or "", settings.broker_password or "")}
    )
    return httpx.Client(transport=httpx.HTTPTransport(retries=settings.broker_retries), timeout=60.0, **credentials)


def store_secret(settings: Settings, name: str, value: str, description: str) -> None:
    """Store a value as a PactFlow secret (the `pact` CLI has no command for secrets)."""
    try:
        with http_client(settings) as client:
            response = client.post(
                f"{str(settings.broker_url).rstrip('/')}/secrets",
                json={"name": name, "description": description, "value": value},
            )
    except httpx.HTTPError as error:
        raise BrokerStepFailed(f"storing the secret failed: {type(error).__name__}") from None
    if response.status_code >= 300:
        raise BrokerStepFailed(f"storing the secret failed: the broker answered {response.status_code}")


@frozen
class PactForVerification:
    """One pact the broker asks this build to verify, and whether its failure may fail the build."""

    url: str
    description: str
    pending: bool
    notices: tuple[str, ...]


def pacts_for_verification(settings: Settings) -> list[PactForVerification]:
    """Ask the broker once which pacts to verify, as the verifier itself asks it."""
    base = str(settings.broker_url).rstrip("/")
    try:
        with http_client(settings) as client:
            index = _hal(client.get(base + "/"))
            template = index["_links"]["pb:provider-pacts-for-verification"]["href"]
            found = _hal(client.post(template.replace("{provider}", quote(settings.provider_name)), json=selection(settings).body()))
    except httpx.HTTPError as error:
        raise BrokerStepFailed(f"could not reach the broker at {printable(base)}: {type(error).__name__}") from None
    except (KeyError, TypeError):
        raise BrokerStepFailed(f"the broker at {printable(base)} has no pacts-for-verification link") from None
    try:
        return [_pact_for_verification(entry) for entry in found.get("_embedded", {}).get("pacts", [])]
    except (AttributeError, KeyError, TypeError):
        raise BrokerStepFailed("the broker's list of pacts for verification lacks a pact's link or properties") from None


def count_interactions(settings: Settings, pacts: list[PactForVerification]) -> int | None:
    """How many interactions the broker's pacts hold together, or None when a pact cannot be read
    (its worker then reports why)."""
    try:
        with http_client(settings) as client, ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(client.get, [pact.url for pact in pacts]))
    except httpx.HTTPError:
        return None
    total = 0
    for answer in answers:
        try:
            interactions = interactions_of(answer.json()) if answer.status_code == 200 else None
        except ValueError:
            return None
        if interactions is None:
            return None
        total += len(interactions)
    return total


def _pact_for_verification(entry: dict[str, Any]) -> PactForVerification:
    url = entry["_links"]["self"]["href"]
    properties = entry.get("verificationProperties", {})
    return PactForVerification(
        url=url,
        description=entry.get("shortDescription", url),
        pending=bool(properties.get("pending") or properties.get("wip")),  # a WIP pact is pending too
        notices=tuple(notice["text"] for notice in properties.get("notices", [])),
    )


def _hal(response: httpx.Response) -> dict[str, Any]:
    """A broker answer as JSON, or one line saying what went wrong."""
    if response.status_code >= 300:
        raise BrokerStepFailed(
            f"fetching the pacts for verification failed: the broker answered {response.status_code} to {response.url.path}"
        )
    try:
        return response.json()  # type: ignore[no-any-return]
    except ValueError:
        raise BrokerStepFailed(f"the broker's answer to {response.url.path} is not JSON") from None
