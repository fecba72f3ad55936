"""The serving variants `serving_matrix.py` compares, as uvicorn `--factory` targets, one per server process.

Each factory answers the products API with the same bytes as the project; only how they are made differs.
Each variant runs in a server process of its own.
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
from example_provider.responses import JSONResponse, render_json
from example_provider.store import Product, ProductStore

MEDIA_TYPE = JSONResponse.media_type


def _rendering_per_response(render: Callable[[Any], bytes]) -> Starlette:
    """The project's routes with each answer rendered on every request by `render`, with no cache."""

    async def products(request: Request) -> Response:
        return Response(render([p.to_json() for p in request.app.state.store.all()]), media_type=MEDIA_TYPE)

    async def product(request: Request) -> Response:
        found = request.app.state.store.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"error": f"no product with ID {request.path_params['id']}"}, status_code=404)
        return Response(render(found.to_json()), media_type=MEDIA_TYPE)

    return _app_like_the_project(products, product, ProductStore.with_baseline())


def as_is() -> Starlette:
    """The project's app exactly as it is: JSON rendered once per revision of the store (app.py)."""
    return create_app()


def json_dumps() -> Starlette:
    """`json.dumps(...)` on every response."""
    return _rendering_per_response(lambda content: json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


def shared_encoder() -> Starlette:
    """One `json.JSONEncoder` made once, used on every response (the project's rendering before its cache)."""
    return _rendering_per_response(render_json)


def orjson_render() -> Starlette:
    """`orjson.dumps` on every response (compact, UTF-8, like the project's for the products' plain strings)."""
    import orjson

    return _rendering_per_response(orjson.dumps)


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

