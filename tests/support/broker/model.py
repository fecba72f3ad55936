"""The broker double's records and stored state, and the helpers its handlers share."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from attrs import define, field, frozen
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

HAL_JSON = "application/hal+json"
MAIN_BRANCHES = ("main", "master")
REDACTED = "**********"


@frozen
class RecordedRequest:
    """One HTTP request as the double received it (secret values redacted)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any | None


@define
class Fault:
    """An injected failure of a route: its status (0 only delays), how often, how slowly."""

    status: int
    times: int | None
    delay: float
    retry_after: int | None


@define
class Pact:
    """A pact as a consumer version published it."""

    provider: str
    consumer: str
    consumer_version: str
    branch: str
    content: dict[str, Any]
    sha: str
    pending: bool
    wip: bool


def digest(data: Any) -> str:
    """A stable identifier of JSON data."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()  # an identifier, not a security measure


def encode_metadata(data: dict[str, Any]) -> str:
    """The metadata segment of a pact URL: JSON, base64url without padding."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_metadata(token: str) -> dict[str, Any]:
    """The metadata of a pact URL segment; {} when it is not a JSON object."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def latest_per_consumer(pacts: Iterable[Pact]) -> list[Pact]:
    """The most recently added pact of each consumer."""
    latest: dict[str, Pact] = {}
    for pact in pacts:
        latest.pop(pact.consumer, None)
        latest[pact.consumer] = pact
    return list(latest.values())


def hal(data: Any, status: int = 200) -> Response:
    """A HAL JSON response."""
    return JSONResponse(data, status_code=status, media_type=HAL_JSON)


def error(status: int, message: str) -> Response:
    """An error response with its message."""
    return hal({"error": message}, status)


def invalid(errors: dict[str, list[str]]) -> Response:
    """A 400 response listing what is wrong, field by field."""
    return hal({"errors": errors}, 400)


@define
class BrokerState:
    """What the double stores and records, and the queries its handlers share."""

    token: str | None = field(default="test-token", kw_only=True)
    username: str | None = field(default=None, kw_only=True)
    password: str | None = field(default=None, kw_only=True)
    base_url: str = field(default="", init=False)
    requests: list[RecordedRequest] = field(factory=list, init=False)
    verification_results: list[dict[str, Any]] = field(factory=list, init=False)
    provider_branch_versions: list[tuple[str, str, str]] = field(factory=list, init=False)
    deployments: list[dict[str, Any]] = field(factory=list, init=False)
    webhooks: dict[str, dict[str, Any]] = field(factory=dict, init=False)
    webhook_executions: list[str] = field(factory=list, init=False)
    secrets: list[dict[str, Any]] = field(factory=list, init=False)
    provider_contracts: list[dict[str, Any]] = field(factory=list, init=False)
    for_verification_requests: list[dict[str, Any]] = field(factory=list, init=False)
    _pacts: dict[tuple[str, str, str], Pact] = field(factory=dict, init=False)
    _versions: dict[tuple[str, str], list[str]] = field(factory=dict, init=False)
    _environments: dict[str, dict[str, Any]] = field(factory=dict, init=False)
    _deployed: dict[tuple[str, str, str | None], str] = field(factory=dict, init=False)
    _secret_names: list[dict[str, Any]] = field(factory=list, init=False)

    def _link(self, *segments: str) -> str:
        return self.base_url + "".join("/" + quote(s, safe="") for s in segments)

    def _here(self, request: Request) -> dict[str, Any]:
        return {"self": {"href": self.base_url + request.url.path}}

    def _add_version(self, pacticipant: str, version: str, branch: str | None) -> bool:
        """Register a version (and its branch); tell whether anything was new."""
        branches = self._versions.setdefault((pacticipant, version), [])
        created = not branches or (branch is not None and branch not in branches)
        if branch is not None and branch not in branches:
            branches.append(branch)
        return created

    def _provider_pacts(self, provider: str) -> list[Pact]:
        return [p for p in self._pacts.values() if p.provider == provider]

    def _deployed_versions(self, pacticipant: str, environment: str | None) -> set[str]:
        return {
            version
            for (name, env, _), version in self._deployed.items()
            if name == pacticipant and environment in (None, env)
        }

    def _pact_url(self, pact: Pact, metadata: str | None = None) -> str:
        url = self._link("pacts", "provider", pact.provider, "consumer", pact.consumer, "pact-version", pact.sha)
        return f"{url}/metadata/{metadata}" if metadata else url


Handler = Callable[[BrokerState, Request, Any], Response]
