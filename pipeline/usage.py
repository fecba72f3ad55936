"""Who uses what of the API: the pacts a verification would read, matched against openapi.yaml."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from pipeline import PipelineError
from pipeline.description import Description
from pipeline.output import printable
from pipeline.pacts import interaction_name, load
from pipeline.settings import Settings

if TYPE_CHECKING:
    from states import StateRegistry


class UsageError(PipelineError):
    """The map cannot be drawn: a pact or the broker cannot be read; the message is one line."""

    exit_code = 2


@frozen
class Pact:
    """One pact as the map reads it: its document, its consumer, where it came from, why the broker chose it."""

    document: dict[str, Any]
    consumer: str
    location: str
    selected: str = ""  # from the broker: the consumer's branch or environment

    @property
    def interactions(self) -> int:
        """How many interactions its document holds."""
        return len(self.document.get("interactions") or [])


@frozen
class Use:
    """One interaction of one consumer that uses an operation, a field or a state."""

    consumer: str
    interaction: str  # its description
    given: tuple[str, ...] = ()  # its provider states: with the description, what names an interaction
    selected: str = ""

    @property
    def name(self) -> str:
        """The interaction as the verification's summary names it."""
        return interaction_name(self.interaction, self.given)


@frozen
class Entry:
    """An operation, field or state, and every use the pacts make of it; `note` says why it is flagged."""

    name: str
    uses: tuple[Use, ...]
    note: str = ""


@frozen
class UsageMap:
    """The facts the pacts hold about the API, described and not."""

    source: str
    pacts: tuple[Pact, ...]
    operations: tuple[Entry, ...]
    undescribed_requests: tuple[Entry, ...]
    fields: tuple[Entry, ...]
    undescribed_fields: tuple[Entry, ...]
    states: tuple[Entry, ...]
    undeclared_states: tuple[Entry, ...]


def load_pacts(settings: Settings, pact_dir: Path | None = None) -> tuple[str, list[Pact]]:
    """Where the pacts come from, and the pacts a verification would read: the files in `pact_dir`, else the
    broker's pacts for verification (its selectors), else the files in PACT_DIR; every pact read and checked
    as the verification reads it (`pipeline.pacts.load`). UsageError, one line, when one cannot be read."""
    try:
        if pact_dir is not None or not settings.has_broker:
            folder = pact_dir or settings.pact_dir
            paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
            if not paths:
                raise UsageError(f"no pact files (*.json) in the folder {printable(folder)}")
            documents = [load(str(path)) for path in paths]
            return f"{folder}/", [Pact(document.json, document.consumer, location) for document, location in documents]
        from pipeline.broker import client, fetch_document, listed_pacts  # the HTTP client: a broker's pacts only

        pacts = []
        with client(settings) as http:
            for listed in listed_pacts(http, settings, None):
                document = fetch_document(http, listed.url, settings, None)
                selected = selected_as(listed.description, listed.pending, listed.notices)
                pacts.append(Pact(document.json, document.consumer, listed.url, selected))
    except UsageError:
        raise
    except PipelineError as error:
        raise UsageError(str(error)) from None
    if not pacts:
        raise UsageError(f"the broker selected no pacts for {printable(settings.provider_name)}: nothing to map")
    return f"the broker's pacts for verification ({printable(settings.broker_url)})", pacts


def selected_as(description: str, pending: bool, notices: tuple[str, ...]) -> str:
    """Why the broker chose a pact, from its notices (the consumer's branch or environment), else its description."""
    why = description
    for notice in notices:
        _, found, reason = notice.partition(" is being verified because ")
        if found and "following criteri" in reason:
            criteria = reason.partition("following criteri")[2].partition(":")[2]
            why = "; ".join(part.strip(" *") for part in re.split(r"\n|; ", criteria) if part.strip(" *"))
        elif found and "work in progress" in reason:
            latest = re.search(r"pact for the (.+?) and is still in pending state", reason)
            why = f"work in progress: {latest[1] if latest else description}"
    return f"{why} (pending)" if pending and "work in progress" not in why else why


def expected_body(interaction: dict[str, Any], v4: bool, label: str) -> Any:
    """The body an interaction expects in its response: V2 and V3 as written, V4 from `content` (decoded)."""
    body = interaction["response"].get("body")
    if not v4 or not isinstance(body, dict):
        return body
    content, encoded = body.get("content"), body.get("encoded")
    if not encoded or not isinstance(content, str):
        return content
    try:
        text = base64.b64decode(content, validate=True) if str(encoded).lower() != "json" else content
        return json.loads(text) if "json" in str(body.get("contentType") or "json").lower() else None
    except (ValueError, RecursionError):
        raise UsageError(f"{label}: its response body cannot be read as {encoded}") from None


def field_of(document: Any, *keys: str) -> Any:
    """A value nested in JSON objects, or None where one of them is missing or not an object."""
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return document


def state_names(interaction: dict[str, Any]) -> list[str]:
    """The provider states an interaction names: V2's `providerState`, V3's and V4's `providerStates`."""
    names = [state["name"] for state in interaction.get("providerStates") or []]
    return [name for name in [interaction.get("providerState"), *names] if name]


def request_path(request: dict[str, Any]) -> str:
    """The path a request is sent to: a provider state's expression when it injects one, else the path."""
    generated = field_of(request, "generators", "path")
    injected = field_of(generated, "type") == "ProviderState" and field_of(generated, "expression")
    return str(injected or request["path"]).partition("?")[0]


def usage_map(source: str, pacts: Sequence[Pact], description: Description, registry: StateRegistry) -> UsageMap:
    """Match every HTTP interaction of the pacts with the description's operations, the fields of their answers,
    and the declared provider states."""
    from states import UnknownState

    operations: dict[str, list[Use]] = {operation.name: [] for operation in description.operations}
    fields: dict[str, list[Use]] = {name: [] for name in description.fields()}
    states: dict[str, list[Use]] = {pattern: [] for pattern in registry.patterns}
    requests: dict[str, list[Use]] = {}
    other_fields: dict[str, list[Use]] = {}
    undeclared: dict[str, list[Use]] = {}
    why: dict[str, str] = {}
    for pact in pacts:
        v4 = str(field_of(pact.document, "metadata", "pactSpecification", "version")).startswith("4")
        for number, interaction in enumerate(pact.document.get("interactions") or [], start=1):
            if interaction.get("type", "Synchronous/HTTP") != "Synchronous/HTTP":
                continue
            given = state_names(interaction)
            use = Use(pact.consumer, interaction["description"], tuple(given), pact.selected)
            for name in given:
                try:
                    states[registry.find(name)[0].pattern].append(use)
                except UnknownState:
                    undeclared.setdefault(name, []).append(use)
            method, path = str(interaction["request"]["method"]).upper(), request_path(interaction["request"])
            operation, why_not = description.operation(method, path)
            status = interaction["response"]["status"]
            if operation is None:
                requests.setdefault(f"{method} {path}", []).append(use)
                why[f"{method} {path}"] = why_not
            else:
                operations[operation.name].append(use)
            schema, owner = description.response_schema(operation, status) if operation else (None, "")
            owner = owner if schema is not None else f"{operation.name if operation else f'{method} {path}'} {status}"
            body = expected_body(interaction, v4, f"interaction {number} of the pact {printable(pact.location)}")
            for name, described in description.body_fields(body, schema, owner):
                (fields if described else other_fields).setdefault(name, []).append(use)
    return UsageMap(
        source=source,
        pacts=tuple(pacts),
        operations=entries(operations),
        undescribed_requests=entries(requests, why),
        fields=entries(fields),
        undescribed_fields=entries(other_fields),
        states=entries(states),
        undeclared_states=entries(undeclared),
    )


def entries(uses: dict[str, list[Use]], notes: dict[str, str] | None = None) -> tuple[Entry, ...]:
    """Each name with its uses, each use once, in the order first met."""
    return tuple(Entry(name, tuple(dict.fromkeys(used)), (notes or {}).get(name, "")) for name, used in uses.items())


def read_usage(settings: Settings, pact_dir: Path | None = None) -> UsageMap:
    """The usage map of the pacts a verification would read, against example_provider/openapi.yaml."""
    from example_provider.app import openapi_document
    from states import registry

    source, pacts = load_pacts(settings, pact_dir)
    return usage_map(source, pacts, Description.read(openapi_document()), registry)
