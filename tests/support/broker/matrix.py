"""The can-i-deploy matrix: each selected version against its integrations."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from tests.support.broker.model import MAIN_BRANCHES, BrokerState, Pact, hal, invalid


def matrix(broker: BrokerState, request: Request, body: Any) -> Response:
    """Rows for each selected version against its integrations, summarised as can-i-deploy reads them."""
    selectors = _matrix_selectors(request.url.query)
    environment = request.query_params.get("environment")
    if not selectors:
        return invalid({"q": ["Please provide 1 or more version selectors."]})
    if environment is not None and environment not in {e["name"] for e in broker._environments.values()}:
        return invalid({"environment": [f"Environment with name '{environment}' does not exist"]})
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for selector in selectors:
        name, version = selector.get("pacticipant", ""), selector.get("version")
        if version is None or (name, version) not in broker._versions:
            missing.append(f"No version {version or '(unspecified)'} of {name} found")
            continue
        rows += _provider_rows(broker, name, version, environment)
        rows += _consumer_rows(broker, name, version, environment)
    return hal(_matrix_body(rows, missing))


def _matrix_selectors(query: str) -> list[dict[str, str]]:
    """Group `q[][name]=value` parameters into selectors; each starts at a pacticipant."""
    selectors: list[dict[str, str]] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.startswith("q[][") and key.endswith("]"):
            if key == "q[][pacticipant]" or not selectors:
                selectors.append({})
            selectors[-1][key[4:-1]] = value
    return selectors


def _required_pacts(broker: BrokerState, provider: str, consumer: str, environment: str | None) -> list[Pact]:
    """The consumer's pacts deployed to the environment, or else its latest main-branch pact."""
    pacts = [p for p in broker._provider_pacts(provider) if p.consumer == consumer and not p.wip]
    if environment is not None:
        deployed = broker._deployed_versions(consumer, environment)
        if in_env := [p for p in pacts if p.consumer_version in deployed]:
            return in_env
    return [p for p in pacts if p.branch in MAIN_BRANCHES][-1:]


def _provider_rows(broker: BrokerState, provider: str, version: str, environment: str | None) -> list[dict[str, Any]]:
    consumers = dict.fromkeys(p.consumer for p in broker._provider_pacts(provider))
    return [
        _row(broker, pact, version)
        for consumer in consumers
        for pact in _required_pacts(broker, provider, consumer, environment)
    ]


def _consumer_rows(broker: BrokerState, consumer: str, version: str, environment: str | None) -> list[dict[str, Any]]:
    """Rows for a consumer version's pacts against provider versions in the environment (or on main)."""
    rows = []
    for pact in broker._pacts.values():
        if (pact.consumer, pact.consumer_version) != (consumer, version):
            continue
        if environment is not None:
            provider_versions = sorted(broker._deployed_versions(pact.provider, environment))
        else:
            provider_versions = [
                v
                for (n, v), branches in broker._versions.items()
                if n == pact.provider and set(branches) & set(MAIN_BRANCHES)
            ][-1:]
        rows += [_row(broker, pact, provider_version) for provider_version in provider_versions]
    return rows


def _latest_result(broker: BrokerState, pact: Pact, provider_version: str) -> dict[str, Any] | None:
    wanted = (pact.provider, pact.consumer, pact.sha, provider_version)
    found = [
        r
        for r in broker.verification_results
        if (r["provider"], r["consumer"], r["pact_version_sha"], r["provider_version"]) == wanted
    ]
    return found[-1] if found else None


def _row(broker: BrokerState, pact: Pact, provider_version: str) -> dict[str, Any]:
    result = _latest_result(broker, pact, provider_version)
    verification = (
        None
        if result is None
        else {
            "success": result["success"],
            "verifiedAt": result.get("verificationDate"),
            "_links": {"self": {"href": result["url"]}},
        }
    )
    return {
        "consumer": {"name": pact.consumer, "version": {"number": pact.consumer_version}},
        "provider": {"name": pact.provider, "version": {"number": provider_version}},
        "pact": {"_links": {"self": {"href": broker._pact_url(pact)}}},
        "verificationResult": verification,
    }


def _matrix_body(rows: list[dict[str, Any]], missing: list[str]) -> dict[str, Any]:
    """Summarise matrix rows: a missing version or a failure is no, a missing result is unknown (null)."""
    results = [r["verificationResult"] for r in rows]
    success = sum(1 for r in results if r is not None and r["success"])
    failed = sum(1 for r in results if r is not None and not r["success"])
    unknown = results.count(None)
    if missing:
        deployable, reason = False, "; ".join(missing)
    elif failed:
        deployable, reason = False, "One or more verifications have failed"
    elif unknown:
        deployable, reason = None, "Missing one or more required verification results"
    else:
        deployable, reason = True, "All required verification results are published and successful"
    kind = {True: "success", False: "error", None: "warning"}[deployable]
    return {
        "summary": {
            "deployable": deployable,
            "reason": reason,
            "success": success,
            "failed": failed,
            "unknown": unknown,
        },
        "notices": [{"type": kind, "text": reason}],
        "matrix": rows,
    }
