"""What the project reads in a pact document itself: its interactions, and whether it is a pact it can verify."""

from __future__ import annotations

import json
from typing import Any

from pipeline import PipelineError

MESSAGE_TYPES = {"Asynchronous/Messages", "Synchronous/Messages"}
MAX_DEPTH = 100  # the verifier's JSON parser stops at 128 levels of nesting
MAX_BYTES = 20 * 1024 * 1024  # a pact or a broker answer; the largest real pacts are a few megabytes


class NotAPact(PipelineError):
    """A document the verifier must not be handed; the message says why, in a few words."""


def interactions_of(document: Any) -> list[Any] | None:
    """A pact's interactions (a message pact's messages), or None when it is not a pact document."""
    if not isinstance(document, dict):
        return None
    found = document.get("interactions", document.get("messages"))
    return found if isinstance(found, list) else None


def parse(data: bytes) -> Any:
    """The JSON of a pact (or of a broker's answer) as the verifier reads it: at most MAX_BYTES of UTF-8
    without a byte order mark, nested at most MAX_DEPTH."""
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


def _name(document: dict[str, Any], side: str) -> str:
    party = document.get(side)
    if not isinstance(party, dict) or not isinstance(party.get("name"), str):
        raise NotAPact(f"its {side} has no name")
    return str(party["name"])


def _check_http(number: int, interaction: dict[str, Any]) -> None:
    request, response = interaction.get("request"), interaction.get("response")
    if (
        not isinstance(request, dict)
        or not isinstance(request.get("method"), str)
        or not isinstance(request.get("path"), str)
    ):
        raise NotAPact(f"interaction {number} has no request with a method and a path")
    status = response.get("status") if isinstance(response, dict) else None
    if not isinstance(status, int) or isinstance(status, bool):
        raise NotAPact(f"interaction {number} has no response with a numeric status")


def _check_states(number: int, interaction: dict[str, Any]) -> None:
    states = interaction.get("providerStates", [])
    if "providerState" in interaction and not isinstance(interaction["providerState"], str | None):
        raise NotAPact(f"interaction {number} has a provider state that is not text")
    if not isinstance(states, list) or not all(
        isinstance(state, dict) and isinstance(state.get("name"), str) for state in states
    ):
        raise NotAPact(f"interaction {number} has provider states that are not a list of named states")
    if not all(isinstance(state.get("params", {}), dict) for state in states):
        raise NotAPact(f"interaction {number} has provider state params that are not an object")


def is_message(interaction: dict[str, Any], in_messages: bool) -> bool:
    """Whether an interaction is a message (a V3 `messages` entry, or a V4 message type), not an HTTP request."""
    return in_messages or interaction.get("type") in MESSAGE_TYPES


def check(document: Any) -> tuple[str, str, list[str]]:
    """A pact's consumer and provider names and the descriptions of its message interactions;
    NotAPact when the verifier could not read it as a pact."""
    if not isinstance(document, dict):
        raise NotAPact("it is not a JSON object")
    interactions = interactions_of(document)
    if interactions is None:
        raise NotAPact("it has no list of interactions")
    consumer, provider = _name(document, "consumer"), _name(document, "provider")
    in_messages = "interactions" not in document
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
        _check_states(number, interaction)
        if is_message(interaction, in_messages):
            messages.append(interaction["description"])
        else:
            _check_http(number, interaction)
    return consumer, provider, messages
