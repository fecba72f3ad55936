from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import define, field

from example_provider.store import Product, ProductStore
from states.registry import StateRegistry


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
