"""PactFlow provider contracts (bi-directional testing): stored with their self-verification."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.support.broker.model import BrokerState, hal, invalid


def _is_base64(text: Any) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (TypeError, ValueError):
        return False
    return isinstance(text, str)


def _contract_errors(body: Any) -> dict[str, list[str]]:
    """What a provider contract publication lacks: a version, and the contract's base64 content."""
    if not isinstance(body, dict):
        return {"body": ["must be a JSON object"]}
    errors: dict[str, list[str]] = {}
    if not isinstance(body.get("pacticipantVersionNumber"), str) or not body["pacticipantVersionNumber"]:
        errors["pacticipantVersionNumber"] = ["can't be blank"]
    contract = body.get("contract")
    if not isinstance(contract, dict) or not _is_base64(contract.get("content")):
        errors["contract"] = ["must have its content, base64 encoded"]
    elif (results := contract.get("selfVerificationResults")) is not None and not (
        isinstance(results, dict) and isinstance(results.get("success"), bool) and _is_base64(results.get("content"))
    ):
        errors["selfVerificationResults"] = ["must have success (true or false) and the content, base64 encoded"]
    return errors


def publish_provider_contract(broker: BrokerState, request: Request, body: Any) -> Response:
    """Store a provider contract with its self-verification, decoded, and answer as PactFlow does."""
    if errors := _contract_errors(body):
        return invalid(errors)
    provider, version = request.path_params["provider"], body["pacticipantVersionNumber"]
    broker._add_version(provider, version, body.get("branch"))
    contract = body["contract"]
    results = contract.get("selfVerificationResults")
    broker.provider_contracts.append(
        {
            "provider": provider,
            "version": version,
            "branch": body.get("branch"),
            "buildUrl": body.get("buildUrl"),
            "content": base64.b64decode(contract["content"]),
            "contentType": contract.get("contentType"),
            "specification": contract.get("specification"),
            "selfVerificationResults": None
            if results is None
            else results | {"content": base64.b64decode(results["content"])},
        }
    )
    version_url = broker._link("pacticipants", provider, "versions", version)
    text = f"Provider contract for {provider} version {version} published"
    return hal(
        {
            "notices": [{"type": "success", "text": text}],
            "_embedded": {"version": {"number": version}},
            "_links": {"pb:pacticipant-version": {"href": version_url}, "pb:pacticipant-version-tags": []},
        },
        200,
    )
