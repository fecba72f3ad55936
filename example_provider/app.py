from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from example_provider.openapi import openapi_json
from example_provider.responses import JSONResponse
from example_provider.store import ProductStore


async def list_products(request: Request) -> JSONResponse:
    """Every product in the catalogue, `[]` when it is empty."""
    store: ProductStore = request.app.state.store
    return JSONResponse([product.to_json() for product in store.all()])


async def get_product(request: Request) -> JSONResponse:
    """One product by id, or 404."""
    store: ProductStore = request.app.state.store
    product_id = request.path_params["id"]
    product = store.get(product_id)
    if product is None:
        return JSONResponse({"error": f"no product with ID {product_id}"}, status_code=404)
    return JSONResponse(product.to_json())


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Unknown paths and unsupported methods answer in JSON too."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


ROUTES: list[BaseRoute] = [
    Route("/products", list_products, methods=["GET"]),
    Route("/product/{id}", get_product, methods=["GET"]),
    Route("/products/{id}", get_product, methods=["GET"]),
    Route("/openapi.json", openapi_json, methods=["GET"]),
]


def create_app(store: ProductStore | None = None, *, provider_states: BaseRoute | None = None) -> Starlette:
    """Build the products API over a store; `provider_states` is the private route a verification adds."""
    routes = [*ROUTES, provider_states] if provider_states is not None else ROUTES
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.router.redirect_slashes = False  # a trailing slash is an unknown path: 404, not a redirect built from Host
    app.state.store = store if store is not None else ProductStore.with_baseline()
    return app


app = create_app()
