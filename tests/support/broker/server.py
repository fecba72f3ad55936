"""The BrokerDouble: serving, recording, authentication, faults, the route table and seeding."""

from __future__ import annotations

import asyncio
import base64
import copy
import hmac
import json
import threading
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from attrs import define, field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.server import running_server
from tests.support.broker.hostile import KINDS, Hostile, hostile_answer
from tests.support.broker.matrix import matrix
from tests.support.broker.model import (
    REDACTED,
    BrokerState,
    Fault,
    Handler,
    Pact,
    RecordedRequest,
    digest,
    error,
    hal,
)
from tests.support.broker.pacts import (
    for_verification_get,
    for_verification_post,
    latest_pacts,
    pact_by_sha,
    pact_by_version,
    publish,
    result,
)
from tests.support.broker.provider_contracts import publish_provider_contract
from tests.support.broker.versions import (
    branch_version,
    environment,
    list_environments,
    pacticipant,
    record_deployment,
    tag,
    version,
)
from tests.support.broker.webhooks import (
    add_secret,
    execute_webhook,
    list_secrets,
    list_webhooks,
    put_webhook,
    webhook,
)

# Route names for fail(): "pact" covers every pact document, "publish" results, "version"
# versions and their tags, "webhook" a webhook and its execution, "provider_contract" the
# publication of a provider contract.
ROUTES = frozenset(
    {
        "index",
        "for_verification",
        "pact",
        "publish",
        "pacticipant",
        "branch_version",
        "matrix",
        "environments",
        "version",
        "record_deployment",
        "webhook",
        "secrets",
        "provider_contract",
    }
)


def index(broker: BrokerState, request: Request, body: Any) -> Response:
    """The index: a link to each resource the clients look up."""

    def rel(path: str) -> dict[str, Any]:
        return {"href": broker.base_url + path, "templated": "{" in path}

    return hal(
        {
            "_links": {
                "self": rel(""),
                "pb:provider-pacts-for-verification": rel("/pacts/provider/{provider}/for-verification"),
                "pb:latest-provider-pacts": rel("/pacts/provider/{provider}/latest"),
                "pb:pacticipant": rel("/pacticipants/{pacticipant}"),
                "pb:pacticipant-version": rel("/pacticipants/{pacticipant}/versions/{version}"),
                "pb:environments": rel("/environments"),
                "pb:environment": rel("/environments/{uuid}"),
                "pb:webhooks": rel("/webhooks"),
                "pb:webhook": rel("/webhooks/{uuid}"),
                "pb:secrets": rel("/secrets"),
                "pf:publish-provider-contract": rel("/provider-contracts/provider/{provider}/publish"),
            }
        }
    )


def _routes() -> list[tuple[str, str, dict[str, Handler]]]:
    """Each path, the route name fail() knows it by, and its handler per method."""
    pact_path = "/pacts/provider/{provider}/consumer/{consumer}"
    sha_path, version_path = pact_path + "/pact-version/{sha}", "/pacticipants/{name}/versions/{version}"
    meta_path = sha_path + "/metadata/{metadata}"
    return [
        ("/", "index", {"GET": index}),
        (
            "/pacts/provider/{provider}/for-verification",
            "for_verification",
            {"GET": for_verification_get, "POST": for_verification_post},
        ),
        ("/pacts/provider/{provider}/latest", "pact", {"GET": latest_pacts}),
        (pact_path + "/version/{cv}", "pact", {"GET": pact_by_version}),
        (sha_path, "pact", {"GET": pact_by_sha}),
        (meta_path, "pact", {"GET": pact_by_sha}),
        (sha_path + "/verification-results", "publish", {"POST": publish}),
        (meta_path + "/verification-results", "publish", {"POST": publish}),
        (sha_path + "/verification-results/{number:int}", "publish", {"GET": result}),
        ("/pacticipants/{name}", "pacticipant", {"GET": pacticipant}),
        ("/pacticipants/{name}/branches/{branch:path}/versions/{version}", "branch_version", {"PUT": branch_version}),
        (version_path, "version", {"GET": version}),
        (version_path + "/tags/{tag}", "version", {"PUT": tag}),
        (version_path + "/deployed-versions/environment/{env}", "record_deployment", {"POST": record_deployment}),
        ("/matrix", "matrix", {"GET": matrix}),
        ("/environments", "environments", {"GET": list_environments}),
        ("/environments/{env}", "environments", {"GET": environment}),
        ("/webhooks", "webhook", {"GET": list_webhooks}),
        ("/webhooks/{uuid}", "webhook", {"GET": webhook, "PUT": put_webhook}),
        ("/webhooks/{uuid}/execute", "webhook", {"POST": execute_webhook}),
        ("/secrets", "secrets", {"GET": list_secrets, "POST": add_secret}),
        ("/provider-contracts/provider/{provider}/publish", "provider_contract", {"POST": publish_provider_contract}),
        ("/{rest:path}", "unknown", {}),
    ]


@define
class BrokerDouble(BrokerState):
    """A Pact Broker double served over real HTTP for tests."""

    _faults: dict[str, Fault] = field(factory=dict, init=False)
    _hostile: dict[str, Hostile] = field(factory=dict, init=False)
    _lock: threading.RLock = field(factory=threading.RLock, init=False)
    _serving: ExitStack | None = field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        """Seed the production environment, as a fresh broker has it."""
        self.add_environment("production", production=True)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Serve the double on a free port of 127.0.0.1 and wait until it is ready."""
        if self._serving is not None:
            raise RuntimeError("the broker double is already running")
        self._serving = ExitStack()
        self.base_url = self._serving.enter_context(running_server(self._app()))

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._serving is not None:
            self._serving.close()
        self._serving = None

    def __enter__(self) -> BrokerDouble:
        """Start the double for a `with` block."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the double at the end of a `with` block."""
        self.stop()

    # -- seeding -------------------------------------------------------------------------

    def add_pact(
        self,
        pact: dict[str, Any],
        *,
        consumer_version: str = "1.0.0",
        branch: str = "main",
        pending: bool = False,
        wip: bool = False,
        deployed: bool = False,
    ) -> str:
        """Store a pact published by a consumer version; return its permalink (absolute once started).

        Interactions without an `_id` get one. `deployed` marks the consumer version as
        deployed to production. A `wip` pact is never chosen by selectors: it is only
        offered, as work in progress, when the verifier asks for WIP pacts.
        """
        content = copy.deepcopy(pact)
        for interaction in content.get("interactions", []):
            interaction.setdefault("_id", digest(interaction))
        provider, consumer = content["provider"]["name"], content["consumer"]["name"]
        key = (provider, consumer, consumer_version)
        with self._lock:
            self._pacts.pop(key, None)
            self._pacts[key] = Pact(*key, branch, content, digest(content), pending, wip)
            self._add_version(consumer, consumer_version, branch)
            if deployed:
                self._deployed[(consumer, "production", None)] = consumer_version
        return self._link("pacts", "provider", provider, "consumer", consumer, "version", consumer_version)

    def add_environment(self, name: str, *, production: bool = True) -> str:
        """Create (or update) an environment by name and return its uuid."""
        with self._lock:
            env_uuid = next((u for u, e in self._environments.items() if e["name"] == name), str(uuidlib.uuid4()))
            self._environments[env_uuid] = {
                "uuid": env_uuid,
                "name": name,
                "displayName": name.title(),
                "production": production,
            }
        return env_uuid

    def add_version(self, pacticipant: str, version: str, *, branch: str | None = None) -> None:
        """Create a pacticipant version, optionally on a branch."""
        with self._lock:
            self._add_version(pacticipant, version, branch)

    # -- faults --------------------------------------------------------------------------

    def fail(
        self, route: str, status: int, *, times: int | None = None, delay: float = 0.0, retry_after: int | None = None
    ) -> None:
        """Answer `route` `times` times (None: always) with `status` after `delay` s; status 0 only delays.
        With `retry_after`, the answer carries that `Retry-After` header (seconds)."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; known: {sorted(ROUTES)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        with self._lock:
            self._faults[route] = Fault(status, times, delay, retry_after)

    def hostile(self, route: str, kind: str, *, to: str = "", every: float = 1.0) -> None:
        """Answer `route` as a hostile broker would, from now on (`hostile.py` describes each kind)."""
        if route not in ROUTES or kind not in KINDS:
            raise ValueError(f"unknown route {route!r} or kind {kind!r}; known: {sorted(ROUTES)}, {sorted(KINDS)}")
        with self._lock:
            self._hostile[route] = Hostile(kind, to, every)

    def clear_faults(self) -> None:
        """Forget every injected fault and hostile answer."""
        with self._lock:
            self._faults.clear()
            self._hostile.clear()

    def pacts_fetched_by_verifiers(self) -> set[str]:
        """The paths of the pacts a verifier fetched (the pipeline's own client, httpx, reads them before)."""
        return {r.path for r in self.requests if "/consumer/" in r.path and "httpx" not in r.headers["user-agent"]}

    # -- plumbing ------------------------------------------------------------------------

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            fault = self._faults.get(route)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[route]
            return fault

    def _authorized(self, header: str) -> bool:
        """Bearer token and/or HTTP basic, whichever is configured; nothing configured = open."""
        if self.token is None and self.username is None:
            return True
        if self.token is not None and hmac.compare_digest(header.encode(), f"Bearer {self.token}".encode()):
            return True
        if self.username is None:
            return False
        pair = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
        return hmac.compare_digest(header.encode(), f"Basic {pair}".encode())

    def _record(self, request: Request, route: str, body: Any) -> None:
        if route == "secrets" and isinstance(body, dict) and "value" in body:
            body = body | {"value": REDACTED}
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers=dict(request.headers),
                json=body,
            )
        )

    def _endpoint(self, route: str, handlers: dict[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a route's handlers with recording, authentication and fault injection."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self._record(request, route, body)
            if not self._authorized(request.headers.get("authorization", "")):
                return error(401, "Authentication required: missing or wrong credentials")
            if (fault := self._take_fault(route)) is not None:
                await asyncio.sleep(fault.delay)
                if fault.status:
                    answer = error(fault.status, f"Injected failure of the {route} route")
                    if fault.retry_after is not None:
                        answer.headers["Retry-After"] = str(fault.retry_after)
                    return answer
            if (handler := handlers.get(request.method)) is None:
                return error(405 if handlers else 404, f"No {request.method} {request.url.path} here")
            with self._lock:
                answer, hostile = handler(self, request, body), self._hostile.get(route)
            return answer if hostile is None else hostile_answer(hostile, answer, self.base_url, request.url.path)

        return endpoint

    def _app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[Route(path, self._endpoint(name, handlers), methods=methods) for path, name, handlers in _routes()]
        )
