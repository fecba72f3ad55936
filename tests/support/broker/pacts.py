"""Pacts for verification, pact documents and verification results."""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.support.broker.model import (
    MAIN_BRANCHES,
    BrokerState,
    Pact,
    decode_metadata,
    encode_metadata,
    error,
    hal,
    invalid,
    latest_per_consumer,
)


def for_verification_get(broker: BrokerState, request: Request, body: Any) -> Response:
    """The pacts-for-verification resource of a known provider."""
    provider = request.path_params["provider"]
    if not broker._provider_pacts(provider):
        return error(404, f"No provider with name '{provider}' found")
    return hal({"_links": broker._here(request)})


def for_verification_post(broker: BrokerState, request: Request, body: Any) -> Response:
    """Pacts chosen by the consumer version selectors, deduplicated by content, then WIP pacts."""
    broker.for_verification_requests.append(copy.deepcopy(body))
    provider = request.path_params["provider"]
    if not isinstance(body, dict):
        return invalid({"body": ["must be a JSON object"]})
    if not (pacts := broker._provider_pacts(provider)):
        return error(404, f"No provider with name '{provider}' found")
    selectors = body.get("consumerVersionSelectors") or [{"latest": True}]
    branch = body.get("providerVersionBranch")
    if not isinstance(selectors, list) or not all(isinstance(s, dict) for s in selectors):
        return invalid({"consumerVersionSelectors": ["must be a list of JSON objects"]})
    if not branch and any(s.get("matchingBranch") for s in selectors):
        return invalid({"consumerVersionSelectors": ["matchingBranch requires providerVersionBranch"]})
    chosen: dict[tuple[str, str], tuple[list[Pact], list[str]]] = {}
    for selector in selectors:
        for pact in _select(broker, pacts, selector, branch):
            found, reasons = chosen.setdefault((pact.consumer, pact.sha), ([], []))
            if pact not in found:
                found.append(pact)
            reasons.append(_criterion(broker, pact, selector))
    with_pending = bool(body.get("includePendingStatus"))
    entries = [
        _entry(broker, found, reasons, pending=with_pending and any(p.pending for p in found))
        for found, reasons in chosen.values()
    ]
    if body.get("includeWipPactsSince"):
        entries += [
            _entry(broker, [p], [], pending=True, wip=True)
            for p in pacts
            if p.wip and (p.consumer, p.sha) not in chosen
        ]
    return hal({"_embedded": {"pacts": entries}, "_links": broker._here(request)})


def _select(broker: BrokerState, pacts: list[Pact], selector: dict[str, Any], branch: str | None) -> list[Pact]:
    """Apply one consumer version selector (WIP pacts are never selected)."""
    candidates = [p for p in pacts if not p.wip and selector.get("consumer") in (None, p.consumer)]
    if "tag" in selector:
        return []
    if selector.get("mainBranch"):
        return latest_per_consumer(p for p in candidates if p.branch in MAIN_BRANCHES)
    if selector.get("matchingBranch"):
        return latest_per_consumer(p for p in candidates if p.branch == branch)
    if "branch" in selector:
        on_branch = [p for p in candidates if p.branch == selector["branch"]]
        return on_branch if selector.get("latest") is False else latest_per_consumer(on_branch)
    if any(selector.get(k) for k in ("deployedOrReleased", "deployed", "released")):
        return [
            p
            for p in candidates
            if p.consumer_version in broker._deployed_versions(p.consumer, selector.get("environment"))
        ]
    return latest_per_consumer(candidates)


def _criterion(broker: BrokerState, pact: Pact, selector: dict[str, Any]) -> str:
    """How the broker names the selector that chose a pact: the consumer's branch or environment, and version."""
    version = f"({pact.consumer_version})"
    if selector.get("mainBranch") or selector.get("matchingBranch") or "branch" in selector:
        return f"latest version of {pact.consumer} from branch '{pact.branch}' {version}"
    if any(selector.get(k) for k in ("deployedOrReleased", "deployed", "released")):
        places = sorted(
            {
                env
                for (name, env, _), v in broker._deployed.items()
                if (name, v) == (pact.consumer, pact.consumer_version)
            }
        )
        return f"version(s) of {pact.consumer} currently deployed to {' and '.join(places)} {version}"
    return f"{json.dumps(selector)} {version}"


def _entry(
    broker: BrokerState, pacts: list[Pact], reasons: list[str], *, pending: bool, wip: bool = False
) -> dict[str, Any]:
    """One pact of the verification list, with the notices the verifier prints (the broker's wording, on one line)."""
    pact, versions = pacts[-1], ", ".join(p.consumer_version for p in pacts)
    href = broker._pact_url(pact, encode_metadata({"cvn": [p.consumer_version for p in pacts], "w": wip}))
    why = (
        f"it is a 'work in progress' pact (ie. it is the pact for the latest version of {pact.consumer} "
        f"from branch '{pact.branch}' and is still in pending state)"
        if wip
        else f"the pact content belongs to the consumer version{'s' if len(reasons) > 1 else ''} matching the "
        f"following criteri{'a' if len(reasons) > 1 else 'on'}: {'; '.join(reasons)}"
    )
    notices = [{"when": "before_verification", "text": f"The pact at {href} is being verified because {why}"}]
    if pending:
        notices.append(
            {
                "when": "before_verification",
                "text": f"This pact is in pending state for "
                f"this version of {pact.provider}: a failure will not fail the build.",
            }
        )
    return {
        "shortDescription": f"{'WIP pact' if wip else 'Pact'} of {pact.consumer} {versions}",
        "verificationProperties": {"pending": pending, "wip": wip, "notices": notices},
        "_links": {"self": {"href": href, "name": f"Pact between {pact.consumer} ({versions}) and {pact.provider}"}},
    }


def _find_sha(broker: BrokerState, provider: str, consumer: str, sha: str) -> Pact | None:
    found = [p for p in broker._provider_pacts(provider) if (p.consumer, p.sha) == (consumer, sha)]
    return found[-1] if found else None


def _pact_document(broker: BrokerState, request: Request, pact: Pact, metadata: str | None) -> Response:
    document = copy.deepcopy(pact.content)
    document["_links"] = broker._here(request) | {
        "pb:provider": {"href": broker._link("pacticipants", pact.provider), "name": pact.provider},
        "pb:consumer": {"href": broker._link("pacticipants", pact.consumer), "name": pact.consumer},
        "pb:consumer-version": {"href": broker._link("pacticipants", pact.consumer, "versions", pact.consumer_version)},
        "pb:publish-verification-results": {
            "href": broker._pact_url(pact, metadata) + "/verification-results",
            "title": "Publish verification results",
        },
    }
    return hal(document)


def pact_by_version(broker: BrokerState, request: Request, body: Any) -> Response:
    """The pact a consumer version published."""
    p = request.path_params
    if (pact := broker._pacts.get((p["provider"], p["consumer"], p["cv"]))) is None:
        return error(404, "No such pact")
    return _pact_document(broker, request, pact, encode_metadata({"cvn": [pact.consumer_version]}))


def pact_by_sha(broker: BrokerState, request: Request, body: Any) -> Response:
    """A pact by its content's digest, with or without metadata."""
    p = request.path_params
    if (pact := _find_sha(broker, p["provider"], p["consumer"], p["sha"])) is None:
        return error(404, "No such pact")
    return _pact_document(broker, request, pact, p.get("metadata"))


def latest_pacts(broker: BrokerState, request: Request, body: Any) -> Response:
    """Links to the latest pact of each consumer of a provider."""
    provider = request.path_params["provider"]
    if not (pacts := latest_per_consumer(broker._provider_pacts(provider))):
        return error(404, f"No provider with name '{provider}' found")
    links = [{"href": broker._pact_url(p), "name": p.consumer} for p in pacts]
    return hal({"_links": broker._here(request) | {"pb:pacts": links}})


def _result_errors(body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {"body": ["must be a JSON object"]}
    errors: dict[str, list[str]] = {}
    if not isinstance(body.get("success"), bool):
        errors["success"] = ["must be true or false"]
    if not isinstance(body.get("providerApplicationVersion"), str) or not body["providerApplicationVersion"]:
        errors["providerApplicationVersion"] = ["can't be blank"]
    return errors


def publish(broker: BrokerState, request: Request, body: Any) -> Response:
    """Store a result with what the double knows: pact URL, names, versions and provider branch."""
    p = request.path_params
    if (pact := _find_sha(broker, p["provider"], p["consumer"], p["sha"])) is None:
        return error(404, "No such pact")
    if errors := _result_errors(body):
        return invalid(errors)
    version = body["providerApplicationVersion"]
    broker._add_version(pact.provider, version, None)
    number = len(broker.verification_results) + 1
    url = f"{broker._pact_url(pact)}/verification-results/{number}"
    broker.verification_results.append(
        copy.deepcopy(body)
        | {
            "pact_url": broker.base_url + request.url.path.removesuffix("/verification-results"),
            "consumer": pact.consumer,
            "provider": pact.provider,
            "provider_version": version,
            "branch": next(reversed(broker._versions[(pact.provider, version)]), None),
            "consumer_versions": decode_metadata(p.get("metadata", "")).get("cvn", [pact.consumer_version]),
            "pact_version_sha": pact.sha,
            "number": number,
            "url": url,
        }
    )
    return hal(body | {"_links": {"self": {"href": url}}}, 201)


def result(broker: BrokerState, request: Request, body: Any) -> Response:
    """A published verification result by its number."""
    number = request.path_params["number"]
    if not 0 < number <= len(broker.verification_results):
        return error(404, "No such verification result")
    found = broker.verification_results[number - 1]
    return hal(found | {"_links": {"self": {"href": found["url"]}}})
