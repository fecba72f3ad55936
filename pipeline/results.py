"""What a verification found, as records, read from the verifier's results; and the summary printed from them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from attrs import frozen

from pipeline.output import safe_line
from pipeline.pacts import Pact, interaction_name

NOT_SUPPORTED = "not supported: message interaction (this provider publishes no messages)"
DURATION = re.compile(r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>ns|µs|us|ms|s|m|h)")
UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@frozen
class Interaction:
    """The verdict on one interaction of one pact."""

    consumer: str
    description: str
    states: tuple[str, ...]
    passed: bool
    pending: bool
    mismatch: str = ""  # the one line the summary prints
    details: str = ""  # the verifier's mismatch in full
    did_not_run: bool = False  # its request was never made: a provider state refused, the request failed
    seconds: float | None = None  # as the verifier timed it

    @property
    def name(self) -> str:
        """Its description and provider states, as the summary and the report name it."""
        return interaction_name(self.description, self.states)


@frozen
class PactResult:
    """One pact and what its verification found."""

    pact: Pact
    interactions: tuple[Interaction, ...] = ()
    errors: tuple[str, ...] = ()
    refused_states: tuple[dict[str, Any], ...] = ()
    publish_errors: tuple[str, ...] = ()
    published: bool = False
    seconds: float = 0.0  # the run's wall time

    @property
    def failed(self) -> list[Interaction]:
        """Failed interactions that count: a pending pact's failures do not fail the build."""
        return [item for item in self.interactions if not item.passed and not item.pending]

    @property
    def ok(self) -> bool:
        """Whether it passed: nothing failed, nothing broke, every result that was due got published."""
        return not (self.failed or self.errors or self.publish_errors) and bool(self.interactions)

    @property
    def passed_count(self) -> int:
        return sum(item.passed for item in self.interactions)

    @property
    def exit_code(self) -> int:
        """2 for a pact that could not be verified at all (its `problem`), 1 for a failed one, 0 for a passed one."""
        return 2 if self.pact.problem else int(not self.ok)


@frozen
class Verification:
    """Every pact a verification verified, each with its result, and the verdict line it closed with."""

    pacts: tuple[PactResult, ...]
    verdict: str = ""

    @property
    def exit_code(self) -> int:
        """The worst of the pacts' exit codes."""
        return max((pact.exit_code for pact in self.pacts), default=1)


def mismatch_line(mismatch: dict[str, Any] | None) -> str:
    """A verifier mismatch as one line: each distinct difference once, after the JSON paths it was found at."""
    if not mismatch:
        return ""
    if mismatch.get("type") != "mismatches":
        return str(mismatch.get("message", mismatch))
    paths: dict[str, list[str]] = {}
    for item in mismatch.get("mismatches", []):
        found = paths.setdefault(str(item.get("mismatch", item)), [])
        if item.get("path") and item["path"] not in found:
            found.append(str(item["path"]))
    listed = {text: ", ".join(sorted(where, key=numbered)) for text, where in paths.items()}
    return "; ".join(f"{where}: {text}" if where else text for text, where in listed.items())


def numbered(path: str) -> list[int | str]:
    """A JSON path's sort key: `$[2]` before `$[10]`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def mismatch_details(mismatch: dict[str, Any] | None) -> str:
    """A verifier mismatch in full: each difference with its path, what was expected and what came back."""
    if not mismatch or mismatch.get("type") != "mismatches":
        return mismatch_line(mismatch)
    return "\n".join(
        f"{item.get('path') or item.get('type', '')}: {item.get('mismatch', '')}"
        + "".join(f"\n  {key}: {item[key]}" for key in ("expected", "actual") if item.get(key) is not None)
        for item in mismatch.get("mismatches", [])
    )


def seconds(duration: object) -> float | None:
    """The verifier's duration of an interaction (such as `156ms` or `1s 20ms`) in seconds; None when unreadable."""
    if not isinstance(duration, str) or not duration.strip() or DURATION.sub("", duration).strip():
        return None
    return sum(float(part["amount"]) * UNITS[part["unit"]] for part in DURATION.finditer(duration))


def interactions(pact: Pact, results: dict[str, Any], refused: Sequence[dict[str, Any]]) -> tuple[Interaction, ...]:
    """The verifier's interaction results; a message interaction fails as not supported, a refused state is said."""
    found = []
    for item in results.get("interactionResults", []):
        states = tuple(item.get("providerStates") or ())
        message = item.get("description") in pact.messages
        mismatch = item.get("mismatch")
        refusals = [str(refusal["error"]) for refusal in refused if refusal.get("state") in states]
        line = NOT_SUPPORTED if message else "; ".join(refusals) or mismatch_line(mismatch)
        found.append(
            Interaction(
                consumer=item.get("consumer", ""),
                description=item.get("description", ""),
                states=states,
                passed=item.get("result") == "OK" and not message,
                pending=pact.pending or bool(item.get("pending")),
                mismatch=line,
                details=NOT_SUPPORTED if message else "\n".join([mismatch_details(mismatch), *refusals]),
                did_not_run=isinstance(mismatch, dict) and mismatch.get("type") == "error",
                seconds=seconds(item.get("duration")),
            )
        )
    return tuple(found)


def errors(results: dict[str, Any]) -> tuple[str, ...]:
    """The verifier's errors that belong to no interaction, such as a pact that could not be fetched."""
    of_interactions = [item.get("mismatch") for item in results.get("interactionResults", [])]
    return tuple(
        mismatch_line(error.get("mismatch"))
        for error in results.get("errors", [])
        if error.get("mismatch") not in of_interactions
    )


def summary(pacts: Sequence[PactResult]) -> str:
    """The closing summary of one process: one line per interaction, then the verdict; names made printable."""
    lines = ["", "Summary:"]
    for item in (item for pact in pacts for item in pact.interactions):
        mark = "passed" if item.passed else ("failed (pending, not counted)" if item.pending else "FAILED")
        lines.append(f"  {mark:>6}  {item.consumer}: {item.name}")
        if item.mismatch:
            lines.append(f"          {item.mismatch}")
    for refusal in (refusal for pact in pacts for refusal in pact.refused_states):
        known = f"; known states: {'; '.join(refusal['known'])}" if "known" in refusal else ""
        lines.append(f"  provider state refused: {refusal['error']}{known}")
    lines.extend(f"  error: {error}" for pact in pacts for error in pact.errors)
    lines.extend(f"  publishing the results failed: {error}" for pact in pacts for error in pact.publish_errors)
    lines.append(verdict(pacts))
    return "\n".join(safe_line(line) for line in lines)


def verdict(pacts: Sequence[PactResult]) -> str:
    """The last line of a verification in one process: the counts, and the first reason when it failed."""
    return closing(pacts, reason(pacts), published=all(pact.published for pact in pacts))


def closing(pacts: Sequence[PactResult], failure: str, published: bool, counted: str = "") -> str:
    """A verdict line: the counts (and what else was `counted`), then why it failed or whether it published."""
    passed = sum(pact.passed_count for pact in pacts)
    counts = f"{passed} passed, {sum(len(pact.interactions) for pact in pacts) - passed} failed{counted}"
    if failure:
        return safe_line(f"verification FAILED ({counts}): {failure}")
    return safe_line(f"verification passed: {counts}{'; results published' if published else ''}")


def reason(pacts: Sequence[PactResult]) -> str:
    """Why these pacts failed, in a few words; empty when they did not."""
    if errors := [error for pact in pacts for error in pact.errors]:
        return errors[0]
    if publish_errors := [error for pact in pacts for error in pact.publish_errors]:
        return f"the results were NOT published: {publish_errors[0]}"
    if not any(pact.interactions for pact in pacts):
        return "no interactions were verified: the pacts were empty or not pact documents"
    failed = sum(len(pact.failed) for pact in pacts)
    return f"{failed} interaction(s) failed" if failed else ""
