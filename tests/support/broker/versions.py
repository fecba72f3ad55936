"""Pacticipants, their versions, branches and tags, environments and recorded deployments."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.support.broker.model import BrokerState, error, hal


def _known(broker: BrokerState, pacticipant: str) -> bool:
    return any(name == pacticipant for name, _ in broker._versions) or any(
        pacticipant in (p.provider, p.consumer) for p in broker._pacts.values()
    )


def pacticipant(broker: BrokerState, request: Request, body: Any) -> Response:
    """A known pacticipant, with the templated links to its versions."""
    name = request.path_params["name"]
    if not _known(broker, name):
        return error(404, f"No pacticipant with name '{name}' found")
    base = broker._link("pacticipants", name)
    return hal(
        {
            "name": name,
            "mainBranch": "main",
            "_links": {
                "self": {"href": base},
                "pb:version": {"href": base + "/versions/{version}", "templated": True},
                "pb:branch-version": {"href": base + "/branches/{branch}/versions/{version}", "templated": True},
                "pb:version-tag": {"href": base + "/versions/{version}/tags/{tag}", "templated": True},
            },
        }
    )


def branch_version(broker: BrokerState, request: Request, body: Any) -> Response:
    """Put a version on a branch (201 when anything was new)."""
    p = request.path_params
    created = broker._add_version(p["name"], p["version"], p["branch"])
    broker.provider_branch_versions.append((p["name"], p["branch"], p["version"]))
    return hal({"_links": broker._here(request)}, 201 if created else 200)


def tag(broker: BrokerState, request: Request, body: Any) -> Response:
    """Tag a version; the tag itself is not kept."""
    broker._add_version(request.path_params["name"], request.path_params["version"], None)
    return hal({"name": request.path_params["tag"], "_links": broker._here(request)}, 201)


def version(broker: BrokerState, request: Request, body: Any) -> Response:
    """A version, its branches, and a link to record its deployment to each environment."""
    name, number = request.path_params["name"], request.path_params["version"]
    if (name, number) not in broker._versions:
        return error(404, f"No version '{number}' of pacticipant '{name}' found")
    url = broker._link("pacticipants", name, "versions", number)
    deploy = [
        {
            "name": env["name"],
            "title": f"Record deployment to {env['displayName']}",
            "href": f"{url}/deployed-versions/environment/{env_uuid}",
        }
        for env_uuid, env in broker._environments.items()
    ]
    return hal(
        {
            "number": number,
            "branches": broker._versions[(name, number)],
            "_links": {"self": {"href": url}, "pb:record-deployment": deploy},
        }
    )


def record_deployment(broker: BrokerState, request: Request, body: Any) -> Response:
    """Record a deployment; it replaces the version deployed before to that application instance."""
    p = request.path_params
    env = broker._environments.get(p["env"])
    if env is None or (p["name"], p["version"]) not in broker._versions:
        return error(404, "No such pacticipant version or environment")
    instance = body.get("applicationInstance") if isinstance(body, dict) else None
    broker._deployed[(p["name"], env["name"], instance)] = p["version"]
    broker.deployments.append(
        {
            "pacticipant": p["name"],
            "version": p["version"],
            "environment": env["name"],
            "applicationInstance": instance,
        }
    )
    return hal(
        {
            "uuid": str(uuidlib.uuid4()),
            "currentlyDeployed": True,
            "applicationInstance": instance,
            "_links": broker._here(request),
        },
        201,
    )


def _env_body(broker: BrokerState, env_uuid: str) -> dict[str, Any]:
    url = broker._link("environments", env_uuid)
    return broker._environments[env_uuid] | {"_links": {"self": {"href": url}}}


def list_environments(broker: BrokerState, request: Request, body: Any) -> Response:
    """Every environment."""
    return hal(
        {
            "_embedded": {"environments": [_env_body(broker, u) for u in broker._environments]},
            "_links": broker._here(request),
        }
    )


def environment(broker: BrokerState, request: Request, body: Any) -> Response:
    """One environment by its uuid."""
    if (env_uuid := request.path_params["env"]) not in broker._environments:
        return error(404, "No such environment")
    return hal(_env_body(broker, env_uuid))
