from __future__ import annotations

from states.endpoint import create_verification_app
from states.products import registry
from states.registry import ProviderState, ProviderStates, StateRegistry, UnknownState

__all__ = ["ProviderState", "ProviderStates", "StateRegistry", "UnknownState", "create_verification_app", "registry"]
