"""A Pact Broker test double that the real Pact clients can talk to.

It serves the part of the Pact Broker HAL API that pact-python's verifier (Rust core)
and the `pact broker` CLI use: the index, pacts for verification with consumer version
selectors, pending and WIP pacts, pact documents, verification results, pacticipants,
branches, versions and tags, the can-i-deploy matrix for environments, environments and
recorded deployments, webhooks (stored and "executed" without any outbound request),
PactFlow secrets and PactFlow provider contracts (bi-directional testing). It runs under
the project's test server (uvicorn in a background thread) on 127.0.0.1, records every
request it receives, and can be told to fail or stall a route.

Deliberate simplifications: a main branch is "main" or "master"; "latest" means most
recently added; a pact is pending only when seeded so; tag selectors select nothing; a
provider without pacts is unknown (404 on pacts-for-verification); the matrix reads
`q[][pacticipant]` + `q[][version]` selectors and an optional `environment` only; a
published provider contract is stored and its version created, but the matrix does not
compare it with consumer pacts (can-i-deploy still reads only verification results).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import threading
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Iterable
from contextlib import ExitStack
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote

from attrs import define, field, frozen
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.server import running_server

HAL_JSON = "application/hal+json"
MAIN_BRANCHES = ("main", "master")
REDACTED = "**********"
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

Handler = Callable[[Request, Any], Response]


@frozen
class RecordedRequest:
    """One HTTP request as the double received it (secret values redacted)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any | None


@define
class _Fault:
    status: int
    times: int | None
    delay: float
    retry_after: int | None


@define
class _Pact:
    provider: str
    consumer: str
    consumer_version: str
    branch: str
    content: dict[str, Any]
    sha: str
    pending: bool
    wip: bool


def _digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()  # an identifier, not a security measure


def _encode_metadata(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_metadata(token: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _hal(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, media_type=HAL_JSON)


def _error(status: int, message: str) -> Response:
    return _hal({"error": message}, status)


def _invalid(errors: dict[str, list[str]]) -> Response:
    return _hal({"errors": errors}, 400)


def _latest_per_consumer(pacts: Iterable[_Pact]) -> list[_Pact]:
    latest: dict[str, _Pact] = {}
    for pact in pacts:
        latest.pop(pact.consumer, None)
        latest[pact.consumer] = pact
    return list(latest.values())


def _matrix_selectors(query: str) -> list[dict[str, str]]:
    """Group `q[][name]=value` parameters into selectors; each starts at a pacticipant."""
    selectors: list[dict[str, str]] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.startswith("q[][") and key.endswith("]"):
            if key == "q[][pacticipant]" or not selectors:
                selectors.append({})
            selectors[-1][key[4:-1]] = value
    return selectors


def _result_errors(body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {"body": ["must be a JSON object"]}
    errors: dict[str, list[str]] = {}
    if not isinstance(body.get("success"), bool):
        errors["success"] = ["must be true or false"]
    if not isinstance(body.get("providerApplicationVersion"), str) or not body["providerApplicationVersion"]:
        errors["providerApplicationVersion"] = ["can't be blank"]
    return errors


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


def _is_base64(text: Any) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (TypeError, ValueError):
        return False
    return isinstance(text, str)


def _redact(webhook_request: dict[str, Any]) -> dict[str, Any]:
    """A webhook request without its password or Authorization value, as the broker shows it."""
    shown = {k: v for k, v in webhook_request.items() if k != "password"}
    if isinstance(headers := webhook_request.get("headers"), dict):
        shown["headers"] = {k: REDACTED if k.lower() == "authorization" else v for k, v in headers.items()}
    return shown


@define
class BrokerDouble:
    """A Pact Broker double served over real HTTP for tests."""

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
    _pacts: dict[tuple[str, str, str], _Pact] = field(factory=dict, init=False)
    _versions: dict[tuple[str, str], list[str]] = field(factory=dict, init=False)
    _environments: dict[str, dict[str, Any]] = field(factory=dict, init=False)
    _deployed: dict[tuple[str, str, str | None], str] = field(factory=dict, init=False)
    _secret_names: list[dict[str, Any]] = field(factory=list, init=False)
    _faults: dict[str, _Fault] = field(factory=dict, init=False)
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
            interaction.setdefault("_id", _digest(interaction))
        provider, consumer = content["provider"]["name"], content["consumer"]["name"]
        key = (provider, consumer, consumer_version)
        with self._lock:
            self._pacts.pop(key, None)
            self._pacts[key] = _Pact(*key, branch, content, _digest(content), pending, wip)
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
            self._faults[route] = _Fault(status, times, delay, retry_after)

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self._lock:
            self._faults.clear()

    # -- plumbing ------------------------------------------------------------------------

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

    def _known(self, pacticipant: str) -> bool:
        return any(name == pacticipant for name, _ in self._versions) or any(
            pacticipant in (p.provider, p.consumer) for p in self._pacts.values()
        )

    def _take_fault(self, route: str) -> _Fault | None:
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
                return _error(401, "Authentication required: missing or wrong credentials")
            if (fault := self._take_fault(route)) is not None:
                await asyncio.sleep(fault.delay)
                if fault.status:
                    answer = _error(fault.status, f"Injected failure of the {route} route")
                    if fault.retry_after is not None:
                        answer.headers["Retry-After"] = str(fault.retry_after)
                    return answer
            if (handler := handlers.get(request.method)) is None:
                return _error(405 if handlers else 404, f"No {request.method} {request.url.path} here")
            with self._lock:
                return handler(request, body)

        return endpoint

    def _app(self) -> Starlette:
        pact = "/pacts/provider/{provider}/consumer/{consumer}"
        sha, version = pact + "/pact-version/{sha}", "/pacticipants/{name}/versions/{version}"
        meta = sha + "/metadata/{metadata}"
        table: list[tuple[str, str, dict[str, Handler]]] = [
            ("/", "index", {"GET": self._index}),
            (
                "/pacts/provider/{provider}/for-verification",
                "for_verification",
                {"GET": self._for_verification_get, "POST": self._for_verification_post},
            ),
            ("/pacts/provider/{provider}/latest", "pact", {"GET": self._latest_pacts}),
            (pact + "/version/{cv}", "pact", {"GET": self._pact_by_version}),
            (sha, "pact", {"GET": self._pact_by_sha}),
            (meta, "pact", {"GET": self._pact_by_sha}),
            (sha + "/verification-results", "publish", {"POST": self._publish}),
            (meta + "/verification-results", "publish", {"POST": self._publish}),
            (sha + "/verification-results/{number:int}", "publish", {"GET": self._result}),
            ("/pacticipants/{name}", "pacticipant", {"GET": self._pacticipant}),
            (
                "/pacticipants/{name}/branches/{branch:path}/versions/{version}",
                "branch_version",
                {"PUT": self._branch_version},
            ),
            (version, "version", {"GET": self._version}),
            (version + "/tags/{tag}", "version", {"PUT": self._tag}),
            (version + "/deployed-versions/environment/{env}", "record_deployment", {"POST": self._record_deployment}),
            ("/matrix", "matrix", {"GET": self._matrix}),
            ("/environments", "environments", {"GET": self._list_environments}),
            ("/environments/{env}", "environments", {"GET": self._environment}),
            ("/webhooks", "webhook", {"GET": self._list_webhooks}),
            ("/webhooks/{uuid}", "webhook", {"GET": self._webhook, "PUT": self._put_webhook}),
            ("/webhooks/{uuid}/execute", "webhook", {"POST": self._execute_webhook}),
            ("/secrets", "secrets", {"GET": self._list_secrets, "POST": self._add_secret}),
            (
                "/provider-contracts/provider/{provider}/publish",
                "provider_contract",
                {"POST": self._publish_provider_contract},
            ),
            ("/{rest:path}", "unknown", {}),
        ]
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[Route(path, self._endpoint(name, handlers), methods=methods) for path, name, handlers in table]
        )

    # -- index and pacts -----------------------------------------------------------------

    def _index(self, request: Request, body: Any) -> Response:
        def rel(path: str) -> dict[str, Any]:
            return {"href": self.base_url + path, "templated": "{" in path}

        return _hal(
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

    def _provider_pacts(self, provider: str) -> list[_Pact]:
        return [p for p in self._pacts.values() if p.provider == provider]

    def _for_verification_get(self, request: Request, body: Any) -> Response:
        provider = request.path_params["provider"]
        if not self._provider_pacts(provider):
            return _error(404, f"No provider with name '{provider}' found")
        return _hal({"_links": self._here(request)})

    def _for_verification_post(self, request: Request, body: Any) -> Response:
        """Pacts chosen by the consumer version selectors, deduplicated by content, then WIP pacts."""
        self.for_verification_requests.append(copy.deepcopy(body))
        provider = request.path_params["provider"]
        if not isinstance(body, dict):
            return _invalid({"body": ["must be a JSON object"]})
        if not (pacts := self._provider_pacts(provider)):
            return _error(404, f"No provider with name '{provider}' found")
        selectors = body.get("consumerVersionSelectors") or [{"latest": True}]
        branch = body.get("providerVersionBranch")
        if not isinstance(selectors, list) or not all(isinstance(s, dict) for s in selectors):
            return _invalid({"consumerVersionSelectors": ["must be a list of JSON objects"]})
        if not branch and any(s.get("matchingBranch") for s in selectors):
            return _invalid({"consumerVersionSelectors": ["matchingBranch requires providerVersionBranch"]})
        chosen: dict[tuple[str, str], tuple[list[_Pact], list[str]]] = {}
        for selector in selectors:
            for pact in self._select(pacts, selector, branch):
                found, reasons = chosen.setdefault((pact.consumer, pact.sha), ([], []))
                if pact not in found:
                    found.append(pact)
                reasons.append(json.dumps(selector))
        with_pending = bool(body.get("includePendingStatus"))
        entries = [
            self._entry(found, reasons, pending=with_pending and any(p.pending for p in found))
            for found, reasons in chosen.values()
        ]
        if body.get("includeWipPactsSince"):
            entries += [
                self._entry([p], ["work in progress"], pending=True, wip=True)
                for p in pacts
                if p.wip and (p.consumer, p.sha) not in chosen
            ]
        return _hal({"_embedded": {"pacts": entries}, "_links": self._here(request)})

    def _select(self, pacts: list[_Pact], selector: dict[str, Any], branch: str | None) -> list[_Pact]:
        """Apply one consumer version selector (WIP pacts are never selected)."""
        candidates = [p for p in pacts if not p.wip and selector.get("consumer") in (None, p.consumer)]
        if "tag" in selector:
            return []
        if selector.get("mainBranch"):
            return _latest_per_consumer(p for p in candidates if p.branch in MAIN_BRANCHES)
        if selector.get("matchingBranch"):
            return _latest_per_consumer(p for p in candidates if p.branch == branch)
        if "branch" in selector:
            on_branch = [p for p in candidates if p.branch == selector["branch"]]
            return on_branch if selector.get("latest") is False else _latest_per_consumer(on_branch)
        if any(selector.get(k) for k in ("deployedOrReleased", "deployed", "released")):
            return [
                p
                for p in candidates
                if p.consumer_version in self._deployed_versions(p.consumer, selector.get("environment"))
            ]
        return _latest_per_consumer(candidates)

    def _deployed_versions(self, pacticipant: str, environment: str | None) -> set[str]:
        return {
            version
            for (name, env, _), version in self._deployed.items()
            if name == pacticipant and environment in (None, env)
        }

    def _entry(self, pacts: list[_Pact], reasons: list[str], *, pending: bool, wip: bool = False) -> dict[str, Any]:
        pact, versions = pacts[-1], ", ".join(p.consumer_version for p in pacts)
        href = self._pact_url(pact, _encode_metadata({"cvn": [p.consumer_version for p in pacts], "w": wip}))
        notices = [
            {
                "when": "before_verification",
                "text": f"The pact at {href} is being verified because it "
                f"matches the following configured selection criterion: {'; '.join(reasons)}",
            }
        ]
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
            "_links": {
                "self": {"href": href, "name": f"Pact between {pact.consumer} ({versions}) and {pact.provider}"}
            },
        }

    def _pact_url(self, pact: _Pact, metadata: str | None = None) -> str:
        url = self._link("pacts", "provider", pact.provider, "consumer", pact.consumer, "pact-version", pact.sha)
        return f"{url}/metadata/{metadata}" if metadata else url

    def _find_sha(self, provider: str, consumer: str, sha: str) -> _Pact | None:
        found = [p for p in self._provider_pacts(provider) if (p.consumer, p.sha) == (consumer, sha)]
        return found[-1] if found else None

    def _pact_document(self, request: Request, pact: _Pact, metadata: str | None) -> Response:
        document = copy.deepcopy(pact.content)
        document["_links"] = self._here(request) | {
            "pb:provider": {"href": self._link("pacticipants", pact.provider), "name": pact.provider},
            "pb:consumer": {"href": self._link("pacticipants", pact.consumer), "name": pact.consumer},
            "pb:consumer-version": {
                "href": self._link("pacticipants", pact.consumer, "versions", pact.consumer_version)
            },
            "pb:publish-verification-results": {
                "href": self._pact_url(pact, metadata) + "/verification-results",
                "title": "Publish verification results",
            },
        }
        return _hal(document)

    def _pact_by_version(self, request: Request, body: Any) -> Response:
        p = request.path_params
        if (pact := self._pacts.get((p["provider"], p["consumer"], p["cv"]))) is None:
            return _error(404, "No such pact")
        return self._pact_document(request, pact, _encode_metadata({"cvn": [pact.consumer_version]}))

    def _pact_by_sha(self, request: Request, body: Any) -> Response:
        p = request.path_params
        if (pact := self._find_sha(p["provider"], p["consumer"], p["sha"])) is None:
            return _error(404, "No such pact")
        return self._pact_document(request, pact, p.get("metadata"))

    def _latest_pacts(self, request: Request, body: Any) -> Response:
        provider = request.path_params["provider"]
        if not (pacts := _latest_per_consumer(self._provider_pacts(provider))):
            return _error(404, f"No provider with name '{provider}' found")
        links = [{"href": self._pact_url(p), "name": p.consumer} for p in pacts]
        return _hal({"_links": self._here(request) | {"pb:pacts": links}})

    # -- verification results ------------------------------------------------------------

    def _publish(self, request: Request, body: Any) -> Response:
        """Store a result with what the double knows: pact URL, names, versions and provider branch."""
        p = request.path_params
        if (pact := self._find_sha(p["provider"], p["consumer"], p["sha"])) is None:
            return _error(404, "No such pact")
        if errors := _result_errors(body):
            return _invalid(errors)
        version = body["providerApplicationVersion"]
        self._add_version(pact.provider, version, None)
        number = len(self.verification_results) + 1
        url = f"{self._pact_url(pact)}/verification-results/{number}"
        self.verification_results.append(
            copy.deepcopy(body)
            | {
                "pact_url": self.base_url + request.url.path.removesuffix("/verification-results"),
                "consumer": pact.consumer,
                "provider": pact.provider,
                "provider_version": version,
                "branch": next(reversed(self._versions[(pact.provider, version)]), None),
                "consumer_versions": _decode_metadata(p.get("metadata", "")).get("cvn", [pact.consumer_version]),
                "pact_version_sha": pact.sha,
                "number": number,
                "url": url,
            }
        )
        return _hal(body | {"_links": {"self": {"href": url}}}, 201)

    def _result(self, request: Request, body: Any) -> Response:
        number = request.path_params["number"]
        if not 0 < number <= len(self.verification_results):
            return _error(404, "No such verification result")
        result = self.verification_results[number - 1]
        return _hal(result | {"_links": {"self": {"href": result["url"]}}})

    def _latest_result(self, pact: _Pact, provider_version: str) -> dict[str, Any] | None:
        wanted = (pact.provider, pact.consumer, pact.sha, provider_version)
        found = [
            r
            for r in self.verification_results
            if (r["provider"], r["consumer"], r["pact_version_sha"], r["provider_version"]) == wanted
        ]
        return found[-1] if found else None

    # -- pacticipants, versions, deployments ---------------------------------------------

    def _pacticipant(self, request: Request, body: Any) -> Response:
        name = request.path_params["name"]
        if not self._known(name):
            return _error(404, f"No pacticipant with name '{name}' found")
        base = self._link("pacticipants", name)
        return _hal(
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

    def _branch_version(self, request: Request, body: Any) -> Response:
        p = request.path_params
        created = self._add_version(p["name"], p["version"], p["branch"])
        self.provider_branch_versions.append((p["name"], p["branch"], p["version"]))
        return _hal({"_links": self._here(request)}, 201 if created else 200)

    def _tag(self, request: Request, body: Any) -> Response:
        self._add_version(request.path_params["name"], request.path_params["version"], None)
        return _hal({"name": request.path_params["tag"], "_links": self._here(request)}, 201)

    def _version(self, request: Request, body: Any) -> Response:
        name, version = request.path_params["name"], request.path_params["version"]
        if (name, version) not in self._versions:
            return _error(404, f"No version '{version}' of pacticipant '{name}' found")
        url = self._link("pacticipants", name, "versions", version)
        deploy = [
            {
                "name": env["name"],
                "title": f"Record deployment to {env['displayName']}",
                "href": f"{url}/deployed-versions/environment/{env_uuid}",
            }
            for env_uuid, env in self._environments.items()
        ]
        return _hal(
            {
                "number": version,
                "branches": self._versions[(name, version)],
                "_links": {"self": {"href": url}, "pb:record-deployment": deploy},
            }
        )

    def _record_deployment(self, request: Request, body: Any) -> Response:
        """Record a deployment; it replaces the version deployed before to that application instance."""
        p = request.path_params
        env = self._environments.get(p["env"])
        if env is None or (p["name"], p["version"]) not in self._versions:
            return _error(404, "No such pacticipant version or environment")
        instance = body.get("applicationInstance") if isinstance(body, dict) else None
        self._deployed[(p["name"], env["name"], instance)] = p["version"]
        self.deployments.append(
            {
                "pacticipant": p["name"],
                "version": p["version"],
                "environment": env["name"],
                "applicationInstance": instance,
            }
        )
        return _hal(
            {
                "uuid": str(uuidlib.uuid4()),
                "currentlyDeployed": True,
                "applicationInstance": instance,
                "_links": self._here(request),
            },
            201,
        )

    def _env_body(self, env_uuid: str) -> dict[str, Any]:
        url = self._link("environments", env_uuid)
        return self._environments[env_uuid] | {"_links": {"self": {"href": url}}}

    def _list_environments(self, request: Request, body: Any) -> Response:
        return _hal(
            {
                "_embedded": {"environments": [self._env_body(u) for u in self._environments]},
                "_links": self._here(request),
            }
        )

    def _environment(self, request: Request, body: Any) -> Response:
        if (env_uuid := request.path_params["env"]) not in self._environments:
            return _error(404, "No such environment")
        return _hal(self._env_body(env_uuid))

    # -- matrix (can-i-deploy) -----------------------------------------------------------

    def _matrix(self, request: Request, body: Any) -> Response:
        """Rows for each selected version against its integrations, summarised as can-i-deploy reads them."""
        selectors = _matrix_selectors(request.url.query)
        environment = request.query_params.get("environment")
        if not selectors:
            return _invalid({"q": ["Please provide 1 or more version selectors."]})
        if environment is not None and environment not in {e["name"] for e in self._environments.values()}:
            return _invalid({"environment": [f"Environment with name '{environment}' does not exist"]})
        rows: list[dict[str, Any]] = []
        missing: list[str] = []
        for selector in selectors:
            name, version = selector.get("pacticipant", ""), selector.get("version")
            if version is None or (name, version) not in self._versions:
                missing.append(f"No version {version or '(unspecified)'} of {name} found")
                continue
            rows += self._provider_rows(name, version, environment)
            rows += self._consumer_rows(name, version, environment)
        return _hal(_matrix_body(rows, missing))

    def _required_pacts(self, provider: str, consumer: str, environment: str | None) -> list[_Pact]:
        """The consumer's pacts deployed to the environment, or else its latest main-branch pact."""
        pacts = [p for p in self._provider_pacts(provider) if p.consumer == consumer and not p.wip]
        if environment is not None:
            deployed = self._deployed_versions(consumer, environment)
            if in_env := [p for p in pacts if p.consumer_version in deployed]:
                return in_env
        return [p for p in pacts if p.branch in MAIN_BRANCHES][-1:]

    def _provider_rows(self, provider: str, version: str, environment: str | None) -> list[dict[str, Any]]:
        consumers = dict.fromkeys(p.consumer for p in self._provider_pacts(provider))
        return [
            self._row(pact, version)
            for consumer in consumers
            for pact in self._required_pacts(provider, consumer, environment)
        ]

    def _consumer_rows(self, consumer: str, version: str, environment: str | None) -> list[dict[str, Any]]:
        """Rows for a consumer version's pacts against provider versions in the environment (or on main)."""
        rows = []
        for pact in self._pacts.values():
            if (pact.consumer, pact.consumer_version) != (consumer, version):
                continue
            if environment is not None:
                provider_versions = sorted(self._deployed_versions(pact.provider, environment))
            else:
                provider_versions = [
                    v
                    for (n, v), branches in self._versions.items()
                    if n == pact.provider and set(branches) & set(MAIN_BRANCHES)
                ][-1:]
            rows += [self._row(pact, provider_version) for provider_version in provider_versions]
        return rows

    def _row(self, pact: _Pact, provider_version: str) -> dict[str, Any]:
        result = self._latest_result(pact, provider_version)
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
            "pact": {"_links": {"self": {"href": self._pact_url(pact)}}},
            "verificationResult": verification,
        }

    # -- webhooks and secrets ------------------------------------------------------------

    def _webhook_body(self, webhook_uuid: str) -> dict[str, Any]:
        webhook = copy.deepcopy(self.webhooks[webhook_uuid])
        if isinstance(webhook.get("request"), dict):
            webhook["request"] = _redact(webhook["request"])
        url = self._link("webhooks", webhook_uuid)
        return webhook | {
            "uuid": webhook_uuid,
            "_links": {"self": {"href": url}, "pb:execute": {"href": url + "/execute"}},
        }

    def _put_webhook(self, request: Request, body: Any) -> Response:
        webhook_request = body.get("request") if isinstance(body, dict) else None
        errors: dict[str, list[str]] = {}
        if not isinstance(webhook_request, dict) or not all(webhook_request.get(k) for k in ("url", "method")):
            errors["request"] = ["must have a method and a url"]
        if not isinstance(body, dict) or not body.get("events"):
            errors["events"] = ["must have at least one event"]
        if errors:
            return _invalid(errors)
        webhook_uuid = request.path_params["uuid"]
        created = webhook_uuid not in self.webhooks
        self.webhooks[webhook_uuid] = copy.deepcopy(body)
        return _hal(self._webhook_body(webhook_uuid), 201 if created else 200)

    def _webhook(self, request: Request, body: Any) -> Response:
        if (webhook_uuid := request.path_params["uuid"]) not in self.webhooks:
            return _error(404, f"No webhook with uuid '{webhook_uuid}' found")
        return _hal(self._webhook_body(webhook_uuid))

    def _list_webhooks(self, request: Request, body: Any) -> Response:
        links = [
            {"href": self._link("webhooks", u), "title": w.get("description", u)} for u, w in self.webhooks.items()
        ]
        return _hal({"_links": self._here(request) | {"pb:webhooks": links}})

    def _execute_webhook(self, request: Request, body: Any) -> Response:
        """Report the request the webhook would make; nothing is sent anywhere."""
        if (webhook_uuid := request.path_params["uuid"]) not in self.webhooks:
            return _error(404, f"No webhook with uuid '{webhook_uuid}' found")
        self.webhook_executions.append(webhook_uuid)
        return _hal(
            {
                "request": _redact(self.webhooks[webhook_uuid].get("request", {})),
                "response": {"status": 200, "headers": {}, "body": ""},
                "logs": f"Webhook {webhook_uuid} executed by the broker double; no request was sent",
                "success": True,
                "_links": self._here(request),
            }
        )

    def _add_secret(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict) or not body.get("name") or not isinstance(body.get("value"), str):
            return _invalid({"secret": ["name and value are required"]})
        self.secrets.append(copy.deepcopy(body))
        shown = {"uuid": str(uuidlib.uuid4()), "name": body["name"], "description": body.get("description")}
        self._secret_names.append(shown)
        return _hal(shown | {"_links": {"self": {"href": self._link("secrets", shown["uuid"])}}}, 201)

    # -- provider contracts (PactFlow, bi-directional) -------------------------------------

    def _publish_provider_contract(self, request: Request, body: Any) -> Response:
        """Store a provider contract with its self-verification, decoded, and answer as PactFlow does."""
        if errors := _contract_errors(body):
            return _invalid(errors)
        provider, version = request.path_params["provider"], body["pacticipantVersionNumber"]
        self._add_version(provider, version, body.get("branch"))
        contract = body["contract"]
        results = contract.get("selfVerificationResults")
        self.provider_contracts.append(
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
        version_url = self._link("pacticipants", provider, "versions", version)
        text = f"Provider contract for {provider} version {version} published"
        return _hal(
            {
                "notices": [{"type": "success", "text": text}],
                "_embedded": {"version": {"number": version}},
                "_links": {"pb:pacticipant-version": {"href": version_url}, "pb:pacticipant-version-tags": []},
            },
            200,
        )

    def _list_secrets(self, request: Request, body: Any) -> Response:
        return _hal({"_embedded": {"secrets": copy.deepcopy(self._secret_names)}, "_links": self._here(request)})


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
