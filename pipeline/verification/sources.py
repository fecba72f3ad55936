"""Where a pact comes from (a path, a file:// URL or an http(s) URL), and the checks before the verifier gets it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import frozen

from pipeline.redact import printable
from pipeline.settings import Settings
from pipeline.verification import documents
from pipeline.verification.documents import NotAPact

DEFAULT_PORTS = {"http": 80, "https": 443}
PUBLISH_LINK = "pb:publish-verification-results"


class BadPactSource(Exception):
    """A pact that cannot be verified; the message is one line for a person."""


@frozen
class PactSource:
    """One checked pact: where the verifier finds it, what it holds, and whether it can take results."""

    location: str  # a path, or the URL as given
    remote: bool
    consumer: str
    provider: str
    interactions: int
    messages: tuple[str, ...]  # descriptions of its message interactions
    takes_results: bool  # a broker pact, with a link to publish verification results to

    @property
    def label(self) -> str:
        """The source as it may be printed."""
        return printable(self.location)


def is_url(location: str) -> bool:
    """Whether a pact location is a URL (a `file://` one included) rather than a path."""
    return "://" in location


def origin(url: str) -> tuple[str, str | None, int | None]:
    """A URL's scheme, host and port (the scheme's default when none is given)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = -1
    return parts.scheme.lower(), parts.hostname, port or DEFAULT_PORTS.get(parts.scheme.lower())


def on_the_broker(url: str, settings: Settings) -> bool:
    """Whether a pact URL may be fetched with the broker's credentials: a file, no broker, or the broker's origin."""
    if not is_url(url) or not settings.has_broker:
        return True
    return origin(url) == origin(str(settings.broker_url))


def credentials(url: str, settings: Settings) -> dict[str, str]:
    """The broker credentials as the verifier takes them, for a URL on the broker's origin only."""
    if not settings.has_broker or not is_url(url) or not on_the_broker(url, settings):
        return {}
    if settings.broker_token:
        return {"token": settings.broker_token}
    if settings.broker_username:
        return {"username": settings.broker_username, "password": settings.broker_password or ""}
    return {}


def _fetch(url: str, settings: Settings) -> bytes:
    """The body of a pact URL, fetched as the verifier will fetch it (no redirects followed)."""
    auth = credentials(url, settings)
    headers = {"Authorization": f"Bearer {auth['token']}"} if "token" in auth else {}
    basic = (auth["username"], auth["password"]) if "username" in auth else None
    # only a pact fetched over HTTP loads the HTTP client: a verification of local files starts without it
    import httpx

    from pipeline.http_transport import transport

    try:
        with httpx.Client(
            transport=transport(settings.broker_retries), timeout=60.0, headers=headers, auth=basic
        ) as client:
            response = client.get(url, headers={"Accept": "application/hal+json, application/json"})
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        raise BadPactSource(f"could not fetch the pact {printable(url)}: {type(error).__name__}") from None
    if response.status_code != 200:
        raise BadPactSource(f"could not fetch the pact {printable(url)}: the server answered {response.status_code}")
    return response.content


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise BadPactSource(f"pact file not found: {printable(path)}")
    try:
        return path.read_bytes()
    except OSError as error:
        raise BadPactSource(f"pact file {printable(path)} cannot be read: {error.strerror}") from None


def _local_path(given: str) -> Path:
    """The path a `file://` URL names."""
    parts = urlsplit(given)
    if parts.netloc not in ("", "localhost"):
        raise BadPactSource(f"pact URL {printable(given)} names a file on another host")
    return Path(unquote(parts.path))


def read_pact_source(given: str, settings: Settings) -> PactSource:
    """Check a pact source in any spelling and read its pact; BadPactSource, one line, when it cannot be verified."""
    scheme = urlsplit(given).scheme.lower() if is_url(given) else ""
    if scheme in ("http", "https"):
        if not on_the_broker(given, settings):
            raise BadPactSource(
                f"the pact URL {printable(given)} is not on the broker {printable(settings.broker_url)}: "
                "its credentials go only there"
            )
        if urlsplit(given).username is not None and credentials(given, settings):
            raise BadPactSource(
                f"the pact URL {printable(given)} carries credentials of its own beside the broker's: "
                "remove them from the URL"
            )
        data, location, remote = _fetch(given, settings), given, True
    elif scheme in ("", "file"):
        path = _local_path(given) if scheme else Path(given)
        data, location, remote = _read(path), str(path), False
    else:
        raise BadPactSource(f"pact source {printable(given)} is neither a file nor an http(s) URL")
    try:
        document: Any = documents.parse(data)
        consumer, provider, messages = documents.check(document)
    except NotAPact as error:
        kind = "pact URL" if remote else "pact file"
        raise BadPactSource(f"{kind} {printable(location)} is not a pact the verifier can read: {error}") from None
    links = document.get("_links")
    takes_results = remote and isinstance(links, dict) and isinstance(links.get(PUBLISH_LINK), dict)
    source = PactSource(
        location=location,
        remote=remote,
        consumer=consumer,
        provider=provider,
        interactions=len(documents.interactions_of(document) or ()),
        messages=tuple(messages),
        takes_results=takes_results,
    )
    if source.messages and not takes_results:
        raise BadPactSource(
            f"the pact {source.label} holds {len(source.messages)} message interaction(s) (first: "
            f"{printable(source.messages[0])!r}): message interactions are not supported by this provider"
        )
    return source
