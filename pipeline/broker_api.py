from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from attrs import frozen

from pipeline.errors import BrokerStepFailed
from pipeline.http_transport import transport
from pipeline.redact import printable
from pipeline.settings import Settings
from pipeline.verification.selection import selection


def http_client(settings: Settings) -> httpx.Client:
    """An HTTP client for the broker, with its credentials (a bearer token, or HTTP basic) and retries."""
    credentials: dict[str, Any] = (
        {"headers": {"Authorization": f"Bearer {settings.broker_token}"}}
        if settings.broker_token
        else {"auth": (settings.broker_username or "", settings.broker_password or "")}
    )
    return httpx.Client(transport=transport(settings.broker_retries), timeout=60.0, **credentials)


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
            found = _hal(
                client.post(
                    template.replace("{provider}", quote(settings.provider_name)), json=selection(settings).body()
                )
            )
    except httpx.HTTPError as error:
        raise BrokerStepFailed(f"could not reach the broker at {printable(base)}: {type(error).__name__}") from None
    except (KeyError, TypeError):
        raise BrokerStepFailed(f"the broker at {printable(base)} has no pacts-for-verification link") from None
    try:
        return [_pact_for_verification(entry) for entry in found.get("_embedded", {}).get("pacts", [])]
    except (AttributeError, KeyError, TypeError):
        raise BrokerStepFailed(
            "the broker's list of pacts for verification lacks a pact's link or properties"
        ) from None


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
            "fetching the pacts for verification failed: "
            f"the broker answered {response.status_code} to {response.url.path}"
        )
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        raise BrokerStepFailed(f"the broker's answer to {response.url.path} is not JSON") from None
    return answer
