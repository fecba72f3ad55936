"""The broker's HTTP API, where the pipeline calls it itself: the pacts for verification, a pact, a secret.

Every request goes to the broker's own origin only (links in its answers included), every answer is read
within a size limit, and all of them within the verification's one deadline."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from attrs import evolve, frozen

from pipeline import PipelineError
from pipeline.output import printable
from pipeline.pacts import (
    MAX_BYTES,
    PUBLISH_LINK,
    NotAPact,
    Pact,
    PactDocument,
    document_of,
    pact_of,
    parse,
    scheme_of,
)
from pipeline.settings import Settings

READ_TIMEOUT = 60.0  # seconds one request may wait for the broker, within the deadline


class NoAnswer(PipelineError):
    """An answer that could not be had or used; the message says why in a few words, without naming who
    answered, and `status` is the HTTP status when there was one."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class BrokerTimeout(PipelineError):
    """The broker did not answer within the verification's deadline."""


def check_broker_url(url: str, settings: Settings, what: str) -> None:
    """Refuse, before anything is sent, a URL the broker's credentials must not go to."""
    scheme_of(url, what)  # a URL that is not one is refused in one line
    if not settings.on_the_broker(url):
        raise PipelineError(
            f"{what} {printable(url)} is not on the broker {printable(settings.broker_url)}: "
            "its credentials go only there"
        )
    if urlsplit(url).username is not None and settings.credentials(url):
        raise PipelineError(
            f"{what} {printable(url)} carries credentials of its own beside the broker's: remove them from the URL"
        )


def client(settings: Settings, url: str | None = None) -> httpx.Client:
    """An HTTP client for the broker (or for `url`, with the broker's credentials only on the broker's origin):
    a bearer token or HTTP basic, retries of failed connections, and no redirects followed."""
    given = settings.credentials(url or str(settings.broker_url))
    auth = (given["username"], given["password"]) if "username" in given else None
    token = {"Authorization": f"Bearer {given['token']}"} if "token" in given else {}
    transport = httpx.HTTPTransport(retries=settings.broker_retries)
    return httpx.Client(transport=transport, headers=token, auth=auth, follow_redirects=False)


def answer(
    http: httpx.Client,
    url: str,
    settings: Settings,
    deadline: float | None,
    body: Any = None,
    what: str = "the link",
    who: str = "the broker",
) -> bytes:
    """The body of an answer (a GET, or a POST of `body`), read only within MAX_BYTES and the deadline;
    `what` the URL is and `who` answers it, as a refusal or a timeout names them."""
    check_broker_url(url, settings, what)
    end = deadline or time.monotonic() + READ_TIMEOUT
    timeout = max(min(READ_TIMEOUT, end - time.monotonic()), 0.001)
    headers = {"Accept": "application/hal+json, application/json"}
    try:
        with http.stream("GET" if body is None else "POST", url, json=body, headers=headers, timeout=timeout) as got:
            if not got.is_success:
                raise NoAnswer(f"answered {got.status_code} to {printable(got.url.path)}", got.status_code)
            data = bytearray()
            for chunk in got.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise NoAnswer(f"the answer to {printable(got.url.path)} is larger than {MAX_BYTES // 2**20} MB")
                if time.monotonic() > end:
                    raise httpx.ReadTimeout("the deadline passed")
    except httpx.TimeoutException:
        raise BrokerTimeout(f"{who} did not answer within VERIFY_TIMEOUT ({settings.verify_timeout} s)") from None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        raise NoAnswer(type(error).__name__) from None
    return bytes(data)


def fetch_document(http: httpx.Client, url: str, settings: Settings, deadline: float | None) -> PactDocument:
    """A pact document by its http(s) URL, read and checked; with a broker, only on the broker's origin."""
    if scheme_of(url) not in ("http", "https"):
        raise PipelineError(f"the broker listed the pact {printable(url)}: only http(s) URLs are read")
    who = "the broker" if settings.has_broker else "the server"  # a pact on a server that is no broker
    try:
        return document_of(answer(http, url, settings, deadline, what="the pact URL", who=who), url, remote=True)
    except BrokerTimeout as error:
        if settings.has_broker:  # the broker ran out of time: the whole verification stops
            raise
        raise PipelineError(f"could not fetch the pact {printable(url)}: {error}") from None
    except NoAnswer as error:
        answered = f"the server {error}" if error.status else str(error)
        raise PipelineError(f"could not fetch the pact {printable(url)}: {answered}") from None


def hal(data: bytes, path: str) -> dict[str, Any]:
    """A broker answer as a JSON object, or one line saying what is wrong with it."""
    try:
        document = parse(data)
    except NotAPact as error:
        raise PipelineError(f"the broker's answer to {printable(path)} is not JSON it can read: {error}") from None
    if not isinstance(document, dict):
        raise PipelineError(f"the broker's answer to {printable(path)} is not a JSON object")
    return document


def selection(settings: Settings) -> dict[str, Any]:
    """This build's selection, the body of the pacts-for-verification call: the consumers' main branches,
    what is deployed or released, the consumer branch named like this provider's; pending and WIP pacts too."""
    selectors: list[dict[str, bool]] = [{"mainBranch": True}, {"deployedOrReleased": True}]
    body: dict[str, Any] = {"consumerVersionSelectors": selectors}
    if settings.provider_branch:
        selectors.append({"matchingBranch": True})
        body["providerVersionBranch"] = settings.provider_branch
    return body | {"includePendingStatus": True, "includeWipPactsSince": settings.include_wip_since}


@frozen
class Listed:
    """A pact the broker asks this build to verify, as its list names it."""

    url: str
    description: str
    pending: bool
    notices: tuple[str, ...]


def listed_pacts(http: httpx.Client, settings: Settings, deadline: float | None) -> list[Listed]:
    """Ask the broker once which pacts to verify, as the verifier itself asks it."""
    base = str(settings.broker_url).rstrip("/")
    try:
        links = hal(answer(http, base + "/", settings, deadline), "/").get("_links")
        found = links.get("pb:provider-pacts-for-verification") if isinstance(links, dict) else None
        if not isinstance(found, dict) or not isinstance(found.get("href"), str):
            raise PipelineError(f"the broker at {printable(base)} has no pacts-for-verification link")
        url = found["href"].replace("{provider}", quote(settings.provider_name))
        listed = answer(http, url, settings, deadline, body=selection(settings), what="the broker's link")
        listing = hal(listed, urlsplit(url).path)
    except NoAnswer as error:
        if error.status:
            raise PipelineError(f"fetching the pacts for verification failed: the broker {error}") from None
        raise PipelineError(f"could not reach the broker at {printable(base)}: {error}") from None
    try:
        return [_listed(entry) for entry in listing.get("_embedded", {}).get("pacts", [])]
    except (AttributeError, KeyError, TypeError):
        raise PipelineError("the broker's list of pacts for verification lacks a pact's link or properties") from None


def _listed(entry: dict[str, Any]) -> Listed:
    url, properties = entry["_links"]["self"]["href"], entry.get("verificationProperties", {})
    if not isinstance(url, str):
        raise TypeError("a pact's self link is not text")
    return Listed(
        url=url,
        description=str(entry.get("shortDescription", url)),
        pending=bool(properties.get("pending") or properties.get("wip")),  # a WIP pact is pending too
        notices=tuple(str(notice["text"]) for notice in properties.get("notices", [])),
    )


def store_secret(settings: Settings, name: str, value: str, description: str) -> None:
    """Store a value as a PactFlow secret (the `pact` CLI has no command for secrets)."""
    url = str(settings.broker_url).rstrip("/") + "/secrets"
    try:
        with client(settings) as http:
            got = http.post(url, json={"name": name, "description": description, "value": value}, timeout=READ_TIMEOUT)
    except httpx.HTTPError as error:
        raise PipelineError(f"storing the secret failed: {type(error).__name__}") from None
    if got.status_code >= 300:
        raise PipelineError(f"storing the secret failed: the broker answered {got.status_code}")


def fetch_pact(
    url: str, settings: Settings, deadline: float | None, label: str | None = None, http: httpx.Client | None = None
) -> Pact:
    """A pact by its http(s) URL, read and checked into a record (through `http`, else a client of its own);
    the link it publishes results to must be on the broker's origin too: the verifier sends the broker's
    credentials there."""
    if http is None:
        with client(settings, url) as own:
            return fetch_pact(url, settings, deadline, label, own)
    document = fetch_document(http, url, settings, deadline)
    pact = pact_of(document, url, label or printable(url), remote=True)
    if pact.takes_results:
        link = document.json["_links"][PUBLISH_LINK].get("href")
        check_broker_url(str(link), settings, f"the pact {pact.label}'s {PUBLISH_LINK} link")
    return pact


def broker_pacts(settings: Settings, deadline: float | None) -> list[Pact]:
    """The broker's pacts for this build, each read and checked, through one client; one that cannot be read
    keeps its reason (`problem`), and the others are verified."""
    found = []
    with client(settings) as http:
        for listed in listed_pacts(http, settings, deadline):
            pact = Pact(listed.url, printable(listed.description), remote=True, pending=listed.pending)
            try:
                read = fetch_pact(listed.url, settings, deadline, label=pact.label, http=http)
                found.append(evolve(read, pending=pact.pending, notices=listed.notices))
            except BrokerTimeout:
                raise
            except PipelineError as error:
                found.append(evolve(pact, notices=listed.notices, problem=str(error)))
    return found
