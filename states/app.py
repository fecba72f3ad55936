from __future__ import annotations

from starlette.applications import Starlette

from example_provider.app import create_app
from example_provider.store import ProductStore
from states.endpoint import private_path, states_route
from states.machine import ProviderStates
from states.products import registry


def create_verification_app(store: ProductStore | None = None, states_path: str | None = None) -> Starlette:
    """The products API plus the private states route, for a verification run only."""
    path = states_path or private_path()
    app = create_app(store, provider_states=states_route(path))
    app.state.provider_states = ProviderStates(app.state.store, registry)
    app.state.states_path = path
    return app
