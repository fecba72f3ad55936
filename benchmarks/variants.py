"""The serving variants `serving_matrix.py` compares, as uvicorn `--factory` targets, one per server process.

Each factory answers the products API with the same bytes as the project; only how they are made differs.
A factory may patch `JSONResponse.render`: that is why each variant runs in a process of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from example_provider.app import create_app, http_error
from example_provider.openapi import openapi_json
from example_provider.responses import JSONResponse
from example_provider.store import BASELINE, Product, ProductStore

MEDIA_TYPE = JSONResponse.media_type


def _with_render(render: Callable[[Any], bytes]) -> Starlette:
    """The project's app with its JSON rendering replaced."""
    JSONResponse.render = lambda self, content: render(content)  # type: ignore[method-assign]
    return create_app()


def as_is() -> Starlette:
    """The project's app exactly as it is."""
    return create_app()


def json_dumps() -> Starlette:
    """`json.dumps(...)` on every response (the rendering before the shared encoder)."""
    return _with_render(lambda content: json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def shared_encoder() -> Starlette:
    """One `json.JSONEncoder` made once, the same output as `json.dumps` with the same options."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    return _with_render(lambda content: encoder.encode(content).encode())


def orjson_render() -> Starlette:
    """`orjson.dumps` (compact, UTF-8, like the project's for the products' plain strings)."""
    import orjson

    return _with_render(orjson.dumps)


def _render(product: Product) -> bytes:
    return json.dumps(product.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


_PRODUCT_JSON: dict[Product, bytes] = {}


def _product_json(product: Product) -> bytes:
    """A product's JSON, rendered once per product value."""
    rendered = _PRODUCT_JSON.get(product)
    if rendered is None:
        rendered = _PRODUCT_JSON[product] = _render(product)
    return rendered


async def _cached_product(request: Request) -> Response:
    product = request.app.state.store.get(request.path_params["id"])
    if product is None:
        return JSONResponse({"error": f"no product with ID {request.path_params['id']}"}, status_code=404)
    return Response(_product_json(product), media_type=MEDIA_TYPE)


async def _cached_products(request: Request) -> Response:
    products = request.app.state.store.all()
    return Response(b"[" + b",".join(_product_json(p) for p in products) + b"]", media_type=MEDIA_TYPE)


def _app_like_the_project(products: Callable[..., Any], product: Callable[..., Any], store: ProductStore) -> Starlette:
    """The project's routes, handlers and settings (as in `create_app`), with the two read endpoints replaced."""
    routes = [
        Route("/products", products, methods=["GET"]),
        Route("/product/{id}", product, methods=["GET"]),
        Route("/products/{id}", product, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.router.redirect_slashes = False
    app.state.store = store
    return app


def cached_per_product() -> Starlette:
    """Each product's JSON rendered once and kept (keyed by the immutable product); listings joined."""
    return _app_like_the_project(_cached_products, _cached_product, ProductStore.with_baseline())


class RevisionStore(ProductStore):
    """The proposed store: a `revision` bumped by every write (here by a subclass; in store.py, a field)."""

    revision = 0

    def put(self, product: Product) -> None:
        super().put(product)
        self.revision += 1

    def remove(self, product_id: str) -> None:
        super().remove(product_id)
        self.revision += 1

    def replace(self, products: Any) -> None:
        super().replace(products)
        self.revision += 1


class RenderedCatalogue:
    """The proposed cache: the store's products as JSON, rendered on the first read after a write."""

    def __init__(self, store: RevisionStore) -> None:
        self.store = store
        self.revision = -1
        self.products: dict[str, bytes] = {}
        self.listing = b"[]"

    def _fresh(self) -> RenderedCatalogue:
        if self.revision != self.store.revision:
            self.products = {product.id: _render(product) for product in self.store.all()}
            self.listing = b"[" + b",".join(self.products.values()) + b"]"
            self.revision = self.store.revision
        return self

    def product(self, product_id: str) -> bytes | None:
        """One product's JSON, or None."""
        return self._fresh().products.get(product_id)

    def all(self) -> bytes:
        """The catalogue's JSON."""
        return self._fresh().listing


async def _rendered_product(request: Request) -> Response:
    product_id = request.path_params["id"]
    rendered = request.app.state.catalogue.product(product_id)
    if rendered is None:
        return JSONResponse({"error": f"no product with ID {product_id}"}, status_code=404)
    return Response(rendered, media_type=MEDIA_TYPE)


async def _rendered_products(request: Request) -> Response:
    return Response(request.app.state.catalogue.all(), media_type=MEDIA_TYPE)


def cached_by_revision() -> Starlette:
    """The proposal: JSON rendered once per revision of the store, for one product and for the listing."""
    store = RevisionStore()
    store.replace(BASELINE)
    app = _app_like_the_project(_rendered_products, _rendered_product, store)
    app.state.catalogue = RenderedCatalogue(store)
    return app
