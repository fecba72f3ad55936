"""Webhooks (stored and "executed" without any outbound request) and PactFlow secrets."""

from __future__ import annotations

import copy
import uuid as uuidlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.support.broker.model import REDACTED, BrokerState, error, hal, invalid


def _redact(webhook_request: dict[str, Any]) -> dict[str, Any]:
    """A webhook request without its password or Authorization value, as the broker shows it."""
    shown = {k: v for k, v in webhook_request.items() if k != "password"}
    if isinstance(headers := webhook_request.get("headers"), dict):
        shown["headers"] = {k: REDACTED if k.lower() == "authorization" else v for k, v in headers.items()}
    return shown


def _webhook_body(broker: BrokerState, webhook_uuid: str) -> dict[str, Any]:
    webhook = copy.deepcopy(broker.webhooks[webhook_uuid])
    if isinstance(webhook.get("request"), dict):
        webhook["request"] = _redact(webhook["request"])
    url = broker._link("webhooks", webhook_uuid)
    return webhook | {
        "uuid": webhook_uuid,
        "_links": {"self": {"href": url}, "pb:execute": {"href": url + "/execute"}},
    }


def put_webhook(broker: BrokerState, request: Request, body: Any) -> Response:
    """Create or replace a webhook by its uuid."""
    webhook_request = body.get("request") if isinstance(body, dict) else None
    errors: dict[str, list[str]] = {}
    if not isinstance(webhook_request, dict) or not all(webhook_request.get(k) for k in ("url", "method")):
        errors["request"] = ["must have a method and a url"]
    if not isinstance(body, dict) or not body.get("events"):
        errors["events"] = ["must have at least one event"]
    if errors:
        return invalid(errors)
    webhook_uuid = request.path_params["uuid"]
    created = webhook_uuid not in broker.webhooks
    broker.webhooks[webhook_uuid] = copy.deepcopy(body)
    return hal(_webhook_body(broker, webhook_uuid), 201 if created else 200)


def webhook(broker: BrokerState, request: Request, body: Any) -> Response:
    """One webhook, its secrets redacted."""
    if (webhook_uuid := request.path_params["uuid"]) not in broker.webhooks:
        return error(404, f"No webhook with uuid '{webhook_uuid}' found")
    return hal(_webhook_body(broker, webhook_uuid))


def list_webhooks(broker: BrokerState, request: Request, body: Any) -> Response:
    """Links to every webhook."""
    links = [
        {"href": broker._link("webhooks", u), "title": w.get("description", u)} for u, w in broker.webhooks.items()
    ]
    return hal({"_links": broker._here(request) | {"pb:webhooks": links}})


def execute_webhook(broker: BrokerState, request: Request, body: Any) -> Response:
    """Report the request the webhook would make; nothing is sent anywhere."""
    if (webhook_uuid := request.path_params["uuid"]) not in broker.webhooks:
        return error(404, f"No webhook with uuid '{webhook_uuid}' found")
    broker.webhook_executions.append(webhook_uuid)
    return hal(
        {
            "request": _redact(broker.webhooks[webhook_uuid].get("request", {})),
            "response": {"status": 200, "headers": {}, "body": ""},
            "logs": f"Webhook {webhook_uuid} executed by the broker double; no request was sent",
            "success": True,
            "_links": broker._here(request),
        }
    )


def add_secret(broker: BrokerState, request: Request, body: Any) -> Response:
    """Store a secret; only its name and description are ever shown."""
    if not isinstance(body, dict) or not body.get("name") or not isinstance(body.get("value"), str):
        return invalid({"secret": ["name and value are required"]})
    broker.secrets.append(copy.deepcopy(body))
    shown = {"uuid": str(uuidlib.uuid4()), "name": body["name"], "description": body.get("description")}
    broker._secret_names.append(shown)
    return hal(shown | {"_links": {"self": {"href": broker._link("secrets", shown["uuid"])}}}, 201)


def list_secrets(broker: BrokerState, request: Request, body: Any) -> Response:
    """Every secret, without its value."""
    return hal({"_embedded": {"secrets": copy.deepcopy(broker._secret_names)}, "_links": broker._here(request)})
