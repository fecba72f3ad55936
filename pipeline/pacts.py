"""The pacts a verification verifies, one record each, read and checked before any verifier gets them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import evolve, frozen

from pipeline import PipelineError
from pipeline.documents import MAX_BYTES, NotAPact, check, interactions_of, parse
from pipeline.output import printable
from pipeline.settings import Settings

PUBLISH_LINK = "pb:publish-verification-results"


@frozen
class Pact:
    """One pact to verify: where the verifier finds it, what it holds, and how its failures count."""

    location: str  # a path, or the URL as given
    label: str  # how the summary and the report name it (printable)
    remote: bool = False
    consumer: str = ""
    provider: str = ""
    interactions: int = 0
    messages: tuple[str, ...] = ()  # descriptions of its message interactions
    takes_results: bool = False  # a broker pact, with a link to publish verification results to
    pending: bool = False  # its failures do not fail the build
    notices: tuple[str, ...] = ()  # what the broker says about it
    problem: str = ""  # why it cannot be verified, when it cannot


def _read_file(given: str, url: bool) -> tuple[bytes, str]:
    """The bytes of a pact file (a path or a `file://` URL), and its path."""
    parts = urlsplit(given)
    if url and parts.netloc not in ("", "localhost"):
        raise PipelineError(f"pact URL {printable(given)} names a file on another host")
    path = Path(unquote(parts.path)) if url else Path(given)
    if not path.is_file():
        raise PipelineError(f"pact file not found: {printable(path)}")
    if path.stat().st_size > MAX_BYTES:
        raise PipelineError(f"pact file {printable(path)} is larger than {MAX_BYTES // 2**20} MB")
    try:
        return path.read_bytes(), str(path)
    except OSError as error:
        raise PipelineError(f"pact file {printable(path)} cannot be read: {error.strerror}") from None


def load(given: str, settings: Settings, deadline: float | None = None) -> tuple[dict[str, Any], str, bool]:
    """A pact document from its source in any spelling (a path, a `file://` or an http(s) URL), checked as the
    verifier reads it; its location, and whether it is remote. PipelineError, one line, when it cannot be read."""
    scheme = urlsplit(given).scheme.lower() if "://" in given else ""
    if scheme in ("http", "https"):
        from pipeline.broker import fetch  # the HTTP client loads only for a pact over HTTP

        data, location = fetch(given, settings, deadline), given
    elif scheme in ("", "file"):
        data, location = _read_file(given, url=bool(scheme))
    else:
        raise PipelineError(f"pact source {printable(given)} is neither a file nor an http(s) URL")
    remote = scheme in ("http", "https")
    try:
        document = parse(data)
        check(document)
    except NotAPact as error:
        kind = "pact URL" if remote else "pact file"
        raise PipelineError(f"{kind} {printable(location)} is not a pact the verifier can read: {error}") from None
    return document, location, remote


def read_pact(given: str, settings: Settings, label: str | None = None, deadline: float | None = None) -> Pact:
    """Check a pact source and read its pact into a record; PipelineError, one line, when it cannot be verified."""
    document, location, remote = load(given, settings, deadline)
    consumer, provider, messages = check(document)
    links = document.get("_links")
    publish_link = links.get(PUBLISH_LINK) if isinstance(links, dict) else None
    pact = Pact(
        location=location,
        label=label or printable(location),
        remote=remote,
        consumer=consumer,
        provider=provider,
        interactions=len(interactions_of(document) or ()),
        messages=tuple(messages),
        takes_results=remote and isinstance(publish_link, dict),
    )
    if remote and isinstance(publish_link, dict):  # the verifier sends its results there, with the credentials
        from pipeline.broker import check_broker_url

        check_broker_url(str(publish_link.get("href")), settings, f"the pact {pact.label}'s {PUBLISH_LINK} link")
    if pact.messages and not pact.takes_results:
        raise PipelineError(
            f"the pact {pact.label} holds {len(pact.messages)} message interaction(s) (first: "
            f"{printable(pact.messages[0])!r}): message interactions are not supported by this provider"
        )
    return pact


def local_pacts(folder: Path, settings: Settings) -> list[Pact]:
    """Every pact file (*.json) in a folder, read and checked."""
    if not folder.is_dir():
        raise PipelineError(f"pact folder not found: {printable(folder)}")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise PipelineError(f"no pact files (*.json) in {printable(folder)}")
    return [read_pact(str(path), settings, label=printable(path.name)) for path in paths]


def broker_pacts(settings: Settings, deadline: float | None) -> list[Pact]:
    """The broker's pacts for this build, each read and checked; one that cannot be read keeps its reason
    (`problem`), and the others are verified. Only an http(s) URL on the broker's origin is fetched."""
    from pipeline.broker import BrokerTimeout, listed_pacts  # the HTTP client loads only for a broker run

    found = []
    for listed in listed_pacts(settings, deadline):
        pact = Pact(listed.url, printable(listed.description), remote=True, pending=listed.pending)
        pact = evolve(pact, notices=listed.notices)
        try:
            if urlsplit(listed.url).scheme.lower() not in ("http", "https"):
                raise PipelineError(f"the broker listed the pact {printable(listed.url)}: only http(s) URLs are read")
            read = read_pact(listed.url, settings, label=pact.label, deadline=deadline)
            found.append(evolve(read, pending=pact.pending, notices=pact.notices))
        except BrokerTimeout:
            raise
        except PipelineError as error:
            found.append(evolve(pact, problem=str(error)))
    return found
