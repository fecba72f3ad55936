"""The verifier's results for one pact, read into records: per interaction its verdict, mismatch and time."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from pipeline.verification.outcome import Interaction

NOT_SUPPORTED = "not supported: message interaction (this provider publishes no messages)"
DURATION = re.compile(r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>ns|µs|us|ms|s|m|h)")
UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def describe_mismatch(mismatch: dict[str, Any] | None) -> str:
    """A verifier mismatch as one readable line."""
    if not mismatch:
        return ""
    if mismatch.get("type") == "mismatches":
        return "; ".join(str(item.get("mismatch", item)) for item in mismatch.get("mismatches", []))
    return str(mismatch.get("message", mismatch))


def mismatch_details(mismatch: dict[str, Any] | None) -> str:
    """A verifier mismatch in full: each difference with its path, what was expected and what came back."""
    if not mismatch or mismatch.get("type") != "mismatches":
        return describe_mismatch(mismatch)
    lines = []
    for item in mismatch.get("mismatches", []):
        lines.append(f"{item.get('path') or item.get('type', '')}: {item.get('mismatch', '')}")
        lines.extend(f"  {key}: {item[key]}" for key in ("expected", "actual") if item.get(key) is not None)
    return "\n".join(lines)


def seconds(duration: object) -> float | None:
    """The verifier's duration of an interaction (such as `156ms` or `1s 20ms`) in seconds; None when unreadable."""
    if not isinstance(duration, str) or not duration.strip() or DURATION.sub("", duration).strip():
        return None
    found = DURATION.finditer(duration)
    return sum(float(part["amount"]) * UNITS[part["unit"]] for part in found)


def _refusals(states: Sequence[str], refused: Sequence[dict[str, Any]]) -> list[str]:
    """What the states endpoint answered when it refused one of these provider states."""
    return [str(refusal["error"]) for refusal in refused if refusal.get("state") in states]


def interactions(
    results: dict[str, Any], messages: Collection[str], pending: bool, refused: Sequence[dict[str, Any]]
) -> tuple[Interaction, ...]:
    """The verifier's interaction results; a message interaction fails as not supported, and one whose
    request could not be made (a provider state refused) is marked as one that did not run."""
    found = []
    for item in results.get("interactionResults", []):
        states = tuple(item.get("providerStates") or ())
        message = item.get("description") in messages
        mismatch = item.get("mismatch")
        refusals = _refusals(states, refused)  # a refused state's reason says more than the verifier's mismatch
        details = "\n".join([mismatch_details(mismatch), *refusals])
        did_not_run = isinstance(mismatch, dict) and mismatch.get("type") == "error"
        summary = refusals[0] if did_not_run and refusals else describe_mismatch(mismatch)
        found.append(
            Interaction(
                consumer=item.get("consumer", ""),
                description=item.get("description", ""),
                states=states,
                passed=item.get("result") == "OK" and not message,
                pending=pending or bool(item.get("pending")),
                mismatch=NOT_SUPPORTED if message else summary,
                details=NOT_SUPPORTED if message else details,
                did_not_run=did_not_run,
                seconds=seconds(item.get("duration")),
            )
        )
    return tuple(found)


def errors(results: dict[str, Any]) -> tuple[str, ...]:
    """The verifier's errors that belong to no interaction, such as a pact that could not be fetched."""
    of_interactions = [item.get("mismatch") for item in results.get("interactionResults", [])]
    return tuple(
        describe_mismatch(error.get("mismatch"))
        for error in results.get("errors", [])
        if error.get("mismatch") not in of_interactions
    )
