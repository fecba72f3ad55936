from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from attrs import frozen
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from example_provider.store import ProductStore

DOCUMENT = "openapi.yaml"
# One encoder for every response: `json.dumps` with options builds a new one per call, for the same output.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def render_json(content: Any) -> bytes:
    """Compact JSON, non-ASCII as UTF-8: the bytes every JSON answer of the API carries."""
    return _ENCODER.encode(content).encode()


class JSONResponse(Response):
    """JSON with the charset stated, as the web consumer's pact requires."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return render_json(content)


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the products API, read from the package once (shared: copy it to change it)."""
    import yaml  # here, not at the top: only this route needs it, and a verification run starts faster without

    document = yaml.safe_load(files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{DOCUMENT} does not hold a mapping")
    return document


async def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI document as JSON, the provider contract of the API."""
    return JSONResponse(openapi_document())


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Unknown paths and unsupported methods answer in JSON too."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


@frozen
class ProductsAPI:
    """The products API's read endpoints, each holding the store it answers from."""

    store: ProductStore

    async def list_products(self, request: Request) -> JSONResponse:
        """Every product in the catalogue, `[]` when it is empty."""
        return JSONResponse([product.to_json() for product in self.store.all()])

    async def get_product(self, request: Request) -> JSONResponse:
        """One product by id, or 404."""
        product_id = request.path_params["id"]
        product = self.store.get(product_id)
        if product is None:
            return JSONResponse({"error": f"no product with ID {product_id}"}, status_code=404)
        return JSONResponse(product.to_json())


def create_app(store: ProductStore | None = None, *, provider_states: BaseRoute | None = None) -> Starlette:
    """Build the products API over a store; `provider_states` is the private route a verification adds."""
    api = ProductsAPI(store if store is not None else ProductStore.with_baseline())
    routes: list[BaseRoute] = [
        Route("/products", api.list_products, methods=["GET"]),
        Route("/product/{id}", api.get_product, methods=["GET"]),
        Route("/products/{id}", api.get_product, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    app = Starlette(
        routes=[*routes, provider_states] if provider_states is not None else routes,
        exception_handlers={HTTPException: http_error},
    )
    app.router.redirect_slashes = False  # a trailing slash is an unknown path: 404, not a redirect built from Host
    app.state.store = api.store  # the provider states change it
    return app


app = create_app()
