"""The serving variants `serving_matrix.py` compares, as uvicorn `--factory` targets, one per server process.

Each factory answers the products API with the same bytes as the project; only how they are made differs.
Each variant runs in a server process of its own.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from example_provider.app import JSONResponse, create_app, render_json
from example_provider.store import Product, ProductStore

MEDIA_TYPE = JSONResponse.media_type
Endpoint = Callable[[Request], Awaitable[Response]]


def _rendering_per_response(render: Callable[[Any], bytes]) -> Starlette:
    """The project's app with each answer rendered on every request by `render`, with no cache."""
    app = create_app()
    store: ProductStore = app.state.store

    async def products(request: Request) -> Response:
        return Response(render([p.to_json() for p in store.all()]), media_type=MEDIA_TYPE)

    async def product(request: Request) -> Response:
        found = store.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"error": f"no product with ID {request.path_params['id']}"}, status_code=404)
        return Response(render(found.to_json()), media_type=MEDIA_TYPE)

    return _with_read_endpoints(app, products, product)


def as_is() -> Starlette:
    """The project's app exactly as it is: each answer rendered per request from the store its endpoints hold."""
    return create_app()


def json_dumps() -> Starlette:
    """`json.dumps(...)` on every response."""
    return _rendering_per_response(
        lambda content: json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    )


def orjson_render() -> Starlette:
    """`orjson.dumps` on every response (compact, UTF-8, like the project's for the products' plain strings)."""
    import orjson

    return _rendering_per_response(orjson.dumps)


def cached_per_product() -> Starlette:
    """Each product's JSON rendered once and kept (keyed by the immutable product); listings joined."""
    app = create_app()
    store: ProductStore = app.state.store
    rendered: dict[Product, bytes] = {}

    def product_json(product: Product) -> bytes:
        if product not in rendered:
            rendered[product] = render_json(product.to_json())
        return rendered[product]

    async def products(request: Request) -> Response:
        return Response(b"[" + b",".join(product_json(p) for p in store.all()) + b"]", media_type=MEDIA_TYPE)

    async def product(request: Request) -> Response:
        found = store.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"error": f"no product with ID {request.path_params['id']}"}, status_code=404)
        return Response(product_json(found), media_type=MEDIA_TYPE)

    return _with_read_endpoints(app, products, product)


def _with_read_endpoints(app: Starlette, products: Endpoint, product: Endpoint) -> Starlette:
    """The project's app (`create_app`) with its two read endpoints replaced; every path, method, other route
    and setting stays the app's own."""
    replacements = {"list_products": products, "get_product": product}
    app.router.routes = [
        Route(route.path, replacements[route.name], methods=route.methods, name=route.name)
        if isinstance(route, Route) and route.name in replacements
        else route
        for route in app.routes
    ]
    return app
