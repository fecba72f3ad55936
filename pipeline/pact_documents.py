"""What the project reads in a pact document itself: its list of interactions."""

from __future__ import annotations

from typing import Any


def interactions_of(document: Any) -> list[Any] | None:
    """A pact's interactions (a message pact's messages), or None when it is not a pact document."""
    if not isinstance(document, dict):
        return None
    found = document.get("interactions", document.get("messages"))
    return found if isinstance(found, list) else None
