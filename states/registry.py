from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field, frozen

from example_provider.store import Product, ProductStore

Transition = Callable[[ProductStore, Mapping[str, Any]], dict[str, Any]]

_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")


class UnknownState(LookupError):
    """No declared provider state matches a name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown provider state {name!r}")
        self.name = name
        self.known = known


@frozen
class ProviderState:
    """A declared provider state: a name pattern and the transition it makes on the store."""

    pattern: str
    transition: Transition
    regex: re.Pattern[str] = field(init=False, eq=False, repr=False)

    @regex.default
    def _regex(self) -> re.Pattern[str]:
        """The pattern as a regex: each {name} a named group, the rest literal."""
        return re.compile(_PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(self.pattern)) + r"\Z")


@define
class StateRegistry:
    """The declared provider states, found by name."""

    states: list[ProviderState] = field(factory=list)

    def state(self, pattern: str) -> Callable[[Transition], Transition]:
        """Declare the decorated function as the transition of the state named by `pattern`."""

        def declare(transition: Transition) -> Transition:
            if pattern in self.patterns:
                raise ValueError(f"provider state {pattern!r} is declared twice")
            self.states.append(ProviderState(pattern, transition))
            return transition

        return declare

    @property
    def patterns(self) -> list[str]:
        """The name patterns of every declared state."""
        return [state.pattern for state in self.states]

    def find(self, name: str) -> tuple[ProviderState, dict[str, str]]:
        """The state a name refers to and the values parsed out of it."""
        for state in self.states:
            found = state.regex.match(name)
            if found:
                return state, found.groupdict()
        raise UnknownState(name, self.patterns)


@define
class ProviderStates:
    """The store's state machine: the baseline, the active states, and the way back."""

    store: ProductStore
    registry: StateRegistry
    baseline: tuple[Product, ...] = field()
    active: dict[str, dict[str, Any]] = field(factory=dict, init=False)
    refused: list[dict[str, Any]] = field(factory=list, init=False)
    finished: int = field(default=0, init=False)  # interactions set up and torn down: a verification's progress
    _in_interaction: bool = field(default=False, init=False)

    @baseline.default
    def _baseline(self) -> tuple[Product, ...]:
        return self.store.snapshot()

    def setup(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the transition of the named state and answer the values it produced."""
        self._in_interaction = True
        if not name:
            return {}
        state, values = self.registry.find(name)
        produced = state.transition(self.store, {**values, **params})
        self.active[name] = produced
        return produced

    def teardown(self, name: str) -> dict[str, Any]:
        """End the interaction the named state was set up for: the store returns to its baseline."""
        if name:
            self.registry.find(name)
        self.finished += self._in_interaction
        self._in_interaction = False
        self.active.clear()
        self.store.restore(self.baseline)
        return {}
