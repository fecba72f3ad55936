"""`python -m states` (`make states`): the declared provider states as a Markdown table, from their declarations."""

from __future__ import annotations

import inspect

from states.products import registry
from states.registry import StateRegistry


def markdown(declared: StateRegistry) -> str:
    """Each declared pattern, and the first line of its transition's docstring (what its setup does)."""
    rows = []
    for state in declared.states:
        doc = (inspect.getdoc(state.transition) or "").splitlines()
        what = doc[0].replace("|", "\\|") if doc else ""  # a table cell holds no bare |
        rows.append(f"| `{state.pattern}` | {what} |")
    return "\n".join(["| provider state | what its setup does |", "| --- | --- |", *rows])


if __name__ == "__main__":
    print(markdown(registry))
