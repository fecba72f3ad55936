"""The pacts a verification verifies: each read, checked as the verifier reads it, and kept as a record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import frozen

from pipeline import PipelineError
from pipeline.output import printable

PUBLISH_LINK = "pb:publish-verification-results"
MESSAGE_TYPES = {"Asynchronous/Messages", "Synchronous/Messages"}
MAX_DEPTH = 100  # the verifier's JSON parser stops at 128 levels of nesting
MAX_BYTES = 20 * 1024 * 1024  # a pact or a broker answer; the largest real pacts are a few megabytes


class NotAPact(PipelineError):
    """A document the verifier must not be handed; the message says why, in a few words."""


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


@frozen
class PactDocument:
    """A pact document as read and checked: its JSON, its parties, and its interactions."""

    json: dict[str, Any]
    consumer: str
    provider: str
    interactions: int
    messages: tuple[str, ...]


def interaction_name(description: str, states: Sequence[str]) -> str:
    """How the summary, the report and the usage map name an interaction: its description, then its states."""
    return f"{description} given {', '.join(states)}" if states else description


def parse(data: bytes) -> Any:
    """The JSON of a pact or a broker answer, as the verifier reads it: UTF-8 without a byte order mark."""
    if len(data) > MAX_BYTES:
        raise NotAPact(f"it is larger than {MAX_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotAPact(f"it is not UTF-8 text (byte {error.start})") from None
    if text.startswith("\ufeff"):
        raise NotAPact("it starts with a byte order mark")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotAPact(f"it is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise NotAPact(f"it nests deeper than {MAX_DEPTH} levels") from None
    if depth(document) > MAX_DEPTH:
        raise NotAPact(f"it nests deeper than {MAX_DEPTH} levels")
    return document


def depth(value: Any) -> int:
    """How deeply a JSON value nests, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check(document: Any) -> PactDocument:
    """A parsed pact as the verifier would read it; NotAPact when it could not."""
    if not isinstance(document, dict):
        raise NotAPact("it is not a JSON object")
    interactions = document.get("interactions", document.get("messages"))  # a V3 message pact has `messages`
    if not isinstance(interactions, list):
        raise NotAPact("it has no list of interactions")
    for side in ("consumer", "provider"):
        party = document.get(side)
        if not isinstance(party, dict) or not isinstance(party.get("name"), str):
            raise NotAPact(f"its {side} has no name")
    metadata = document.get("metadata")
    specification = metadata.get("pactSpecification") if isinstance(metadata, dict) else None
    v4 = isinstance(specification, dict) and str(specification.get("version", "")).startswith("4")
    messages = []
    for number, interaction in enumerate(interactions, start=1):
        if not isinstance(interaction, dict):
            raise NotAPact(f"interaction {number} is not an object")
        if not isinstance(interaction.get("description"), str):
            raise NotAPact(f"interaction {number} has no description text")
        if not isinstance(interaction.get("type", "" if not v4 else None), str):
            raise NotAPact(f"interaction {number} has no type text (a V4 pact needs one)")
        states = interaction.get("providerStates", [])
        if "providerState" in interaction and not isinstance(interaction["providerState"], str | None):
            raise NotAPact(f"interaction {number} has a provider state that is not text")
        if not isinstance(states, list) or not all(
            isinstance(state, dict) and isinstance(state.get("name"), str) for state in states
        ):
            raise NotAPact(f"interaction {number} has provider states that are not a list of named states")
        if not all(isinstance(state.get("params", {}), dict) for state in states):
            raise NotAPact(f"interaction {number} has provider state params that are not an object")
        if "interactions" not in document or interaction.get("type") in MESSAGE_TYPES:
            messages.append(interaction["description"])
            continue
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not all(isinstance(request.get(key), str) for key in ("method", "path")):
            raise NotAPact(f"interaction {number} has no request with a method and a path")
        status = response.get("status") if isinstance(response, dict) else None
        if not isinstance(status, int) or isinstance(status, bool):
            raise NotAPact(f"interaction {number} has no response with a numeric status")
    consumer, provider = document["consumer"]["name"], document["provider"]["name"]
    return PactDocument(document, consumer, provider, len(interactions), tuple(messages))


def document_of(data: bytes, location: str, remote: bool) -> PactDocument:
    """A pact's document, read and checked; PipelineError, one line, when the verifier could not read it."""
    try:
        return check(parse(data))
    except NotAPact as error:
        kind = "pact URL" if remote else "pact file"
        raise PipelineError(f"{kind} {printable(location)} is not a pact the verifier can read: {error}") from None


def pact_of(document: PactDocument, location: str, label: str, remote: bool) -> Pact:
    """The record of a checked pact document; a pact of messages that cannot take results is refused."""
    links = document.json.get("_links")
    pact = Pact(
        location=location,
        label=label,
        remote=remote,
        consumer=document.consumer,
        provider=document.provider,
        interactions=document.interactions,
        messages=document.messages,
        takes_results=remote and isinstance(links, dict) and isinstance(links.get(PUBLISH_LINK), dict),
    )
    if pact.messages and not pact.takes_results:
        raise PipelineError(
            f"the pact {pact.label} holds {len(pact.messages)} message interaction(s) (first: "
            f"{printable(pact.messages[0])!r}): message interactions are not supported by this provider"
        )
    return pact


def scheme_of(source: str, what: str = "pact source") -> str:
    """How a source is read: "" for a path, else its URL's scheme; PipelineError for a URL that is not one."""
    if "://" not in source:
        return ""
    try:
        parts = urlsplit(source)
        parts.port  # noqa: B018  # raises for a port that is not a number from 0 to 65535
    except ValueError as error:
        raise PipelineError(f"{what} {printable(source)} is not a usable URL ({error})") from None
    return parts.scheme.lower()


def load(given: str) -> tuple[PactDocument, str]:
    """A pact file's checked document (a path or a `file://` URL) and its path."""
    scheme = scheme_of(given)
    if scheme not in ("", "file"):
        raise PipelineError(f"pact source {printable(given)} is neither a file nor an http(s) URL")
    path = Path(given)
    if scheme == "file":
        parts = urlsplit(given)
        if parts.netloc not in ("", "localhost"):
            raise PipelineError(f"pact URL {printable(given)} names a file on another host")
        path = Path(unquote(parts.path))
    if not path.is_file():
        raise PipelineError(f"pact file not found: {printable(path)}")
    if path.stat().st_size > MAX_BYTES:
        raise PipelineError(f"pact file {printable(path)} is larger than {MAX_BYTES // 2**20} MB")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PipelineError(f"pact file {printable(path)} cannot be read: {error.strerror}") from None
    return document_of(data, str(path), remote=False), str(path)


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
