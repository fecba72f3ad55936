"""Pacts for the usage map's tests: one HTTP interaction as a V2, V3 or V4 pact writes it, and a folder of pacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.runs import PROVIDER

PRODUCT = {"id": "10", "type": "CREDIT_CARD", "name": "28 Degrees"}
VERSIONS = {2: "2.0.0", 3: "3.0.0", 4: "4.0"}


def interaction(
    description: str,
    path: str,
    body: Any = None,
    *,
    version: int = 3,
    states: tuple[str, ...] = (),
    method: str = "GET",
    status: int = 200,
    **request: Any,
) -> dict[str, Any]:
    """One HTTP interaction as a V2, V3 or V4 pact writes it."""
    response: dict[str, Any] = {"status": status}
    if body is not None:
        response["body"] = (
            {"content": body, "contentType": "application/json", "encoded": False} if version == 4 else body
        )
    written: dict[str, Any] = {
        "description": description,
        "request": {"method": method, "path": path, **request},
        "response": response,
    }
    if version == 2 and states:
        written["providerState"] = states[0]
    elif states:
        written["providerStates"] = [{"name": name} for name in states]
    return written | ({"type": "Synchronous/HTTP"} if version == 4 else {})


def pact(consumer: str, *interactions: dict[str, Any], version: int = 3) -> dict[str, Any]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": VERSIONS[version]}},
    }


def write(folder: Path, *documents: dict[str, Any]) -> Path:
    folder.mkdir(exist_ok=True)
    for number, document in enumerate(documents):
        (folder / f"{number}.json").write_text(json.dumps(document))
    return folder
