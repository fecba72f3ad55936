from __future__ import annotations

import json
import secrets
import traceback
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from example_provider.app import JSONResponse, create_app
from example_provider.store import InvalidProduct, ProductStore
from states.products import registry as declared
from states.registry import ProviderStates, StateRegistry, UnknownState

ACTIONS = ("setup", "teardown")
# A transition that raised: a client error, because the verifier retries a 5xx with back-off (1 s ... 64 s) and a
# 4xx never; it fails the one interaction at once.
BROKEN_STATE = 422
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _refuse_browsers(request: Request) -> None:
    """Only a JSON POST to a loopback host, with no foreign Origin, may drive the states: a web page cannot."""
    host = request.url.hostname
    if host not in LOOPBACK_HOSTS:  # a page on a rebound DNS name still names its own host
        raise HTTPException(
            403, f"requests for host {host!r} are refused: the states endpoint answers on loopback only"
        )
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPException(403, f"requests from origin {origin!r} are refused")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "the states endpoint takes application/json only")


def _parse(body: bytes) -> tuple[str, str, dict[str, Any]]:
    try:
        payload = json.loads(body)
        # An unpaired surrogate escape such as "\ud800" parses but is not text: no answer could echo it.
        json.dumps(payload, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        # Also integers past Python's digit limit and nesting past its recursion limit: 400, not 500.
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, "the body must be a JSON object")
    state = payload.get("state")
    if not isinstance(state, str):
        raise HTTPException(400, '"state" must be given as a string')
    action = payload.get("action", "setup")
    if action not in ACTIONS:
        raise HTTPException(400, f'"action" must be one of {", ".join(ACTIONS)}, got {action!r}')
    params = payload.get("params")
    if not isinstance(params, dict | None):
        raise HTTPException(400, '"params" must be a JSON object')
    return state, action, params or {}


async def change_state(request: Request) -> JSONResponse:
    """Set up or tear down a provider state.

    The verifier POSTs `{"state": "...", "action": "setup" | "teardown", "params": {...}}`. A setup answers the
    values it produced, for provider-state injected values; a teardown returns the store to its baseline. The
    empty state is the generic call and does nothing. Errors answer 4xx with `{"error": ...}`; an unknown state
    also lists the known patterns. A transition that raises answers 422 naming the state and the exception, and
    prints its traceback once.
    """
    machine: ProviderStates = request.app.state.provider_states
    try:
        _refuse_browsers(request)
        state, action, params = _parse(await request.body())
    except HTTPException as error:
        return _refused(machine, {"error": error.detail}, error.status_code)
    try:
        return JSONResponse(machine.setup(state, params) if action == "setup" else machine.teardown(state))
    except UnknownState as error:
        return _refused(machine, {"error": str(error), "state": error.name, "known": error.known}, 400)
    except InvalidProduct as error:
        return _refused(machine, {"error": f"invalid values for the state: {error}", "state": state}, 400)
    except Exception as error:  # a bug in a transition: fail this interaction now, and say where
        traceback.print_exc()
        failed = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return _refused(machine, {"error": f"provider state {state!r} failed: {failed}", "state": state}, BROKEN_STATE)


def _refused(machine: ProviderStates, refusal: dict[str, object], status: int) -> JSONResponse:
    """Keep the refusal for the run's report, and answer it."""
    machine.refused.append(refusal)
    return JSONResponse(refusal, status_code=status)


def create_verification_app(
    store: ProductStore | None = None, states_path: str | None = None, registry: StateRegistry | None = None
) -> Starlette:
    """The products API plus the private states route, for a verification run only; the states are those of
    states/products.py unless `registry` holds others."""
    path = states_path or f"/_pact/provider-states/{secrets.token_urlsafe(24)}"  # unguessable, one per run
    app = create_app(store, provider_states=Route(path, change_state, methods=["POST"]))
    app.state.provider_states = ProviderStates(app.state.store, registry if registry is not None else declared)
    app.state.states_path = path
    return app
