"""The pacts a verification verifies, one record each, read and checked before any verifier gets them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import frozen

from pipeline import PipelineError
from pipeline.documents import MAX_BYTES, NotAPact, check, interactions_of, parse
from pipeline.output import printable

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


@frozen
class PactDocument:
    """A pact document as read and checked: its JSON, and the parties and message interactions it names."""

    json: dict[str, Any]
    consumer: str
    provider: str
    messages: tuple[str, ...]


def document_of(data: bytes, location: str, remote: bool) -> PactDocument:
    """A pact's document, checked as the verifier reads it; PipelineError, one line, when it cannot be read."""
    try:
        document = parse(data)
        consumer, provider, messages = check(document)
    except NotAPact as error:
        kind = "pact URL" if remote else "pact file"
        raise PipelineError(f"{kind} {printable(location)} is not a pact the verifier can read: {error}") from None
    return PactDocument(document, consumer, provider, tuple(messages))


def pact_of(document: PactDocument, location: str, label: str, remote: bool) -> Pact:
    """The record of a checked pact document; a pact of messages that cannot take results is refused."""
    links = document.json.get("_links")
    pact = Pact(
        location=location,
        label=label,
        remote=remote,
        consumer=document.consumer,
        provider=document.provider,
        interactions=len(interactions_of(document.json) or ()),
        messages=document.messages,
        takes_results=remote and isinstance(links, dict) and isinstance(links.get(PUBLISH_LINK), dict),
    )
    if pact.messages and not pact.takes_results:
        raise PipelineError(
            f"the pact {pact.label} holds {len(pact.messages)} message interaction(s) (first: "
            f"{printable(pact.messages[0])!r}): message interactions are not supported by this provider"
        )
    return pact


def load(given: str) -> tuple[PactDocument, str]:
    """A pact file's checked document (a path or a `file://` URL) and its path."""
    scheme = urlsplit(given).scheme.lower() if "://" in given else ""
    if scheme not in ("", "file"):
        raise PipelineError(f"pact source {printable(given)} is neither a file nor an http(s) URL")
    data, location = _read_file(given, url=scheme == "file")
    return document_of(data, location, remote=False), location


def read_pact(given: str, label: str | None = None) -> Pact:
    """A pact file (a path or a `file://` URL), read and checked into a record."""
    document, location = load(given)
    return pact_of(document, location, label or printable(location), remote=False)


def local_pacts(folder: Path) -> list[Pact]:
    """Every pact file (*.json) in a folder, read and checked."""
    if not folder.is_dir():
        raise PipelineError(f"pact folder not found: {printable(folder)}")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise PipelineError(f"no pact files (*.json) in {printable(folder)}")
    return [read_pact(str(path), label=printable(path.name)) for path in paths]
