"""The bare baseline: a Starlette app answering the products API's bytes, precomputed, with no store."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MEDIA_TYPE = "application/json; charset=utf-8"
STATES_PATH = "/_pact/provider-states"

# The exact bytes the project serves for its baseline catalogue (run.py checks they are the same).
PRODUCT = b'{"id":"10","type":"CREDIT_CARD","name":"28 Degrees"}'
PRODUCTS = (
    b'[{"id":"09","type":"CREDIT_CARD","name":"Gem Visa"},'
    b'{"id":"10","type":"CREDIT_CARD","name":"28 Degrees"},'
    b'{"id":"11","type":"PERSONAL_LOAN","name":"MyFlexiPay"}]'
)
EMPTY = b"{}"


async def products(request: Request) -> Response:
    """The catalogue, as fixed bytes."""
    return Response(PRODUCTS, media_type=MEDIA_TYPE)


async def product(request: Request) -> Response:
    """One product, the same fixed bytes whatever the id (a pact's type matchers accept it)."""
    return Response(PRODUCT, media_type=MEDIA_TYPE)


async def no_op_state(request: Request) -> Response:
    """The verifier's state changes, accepted and ignored."""
    await request.body()
    return Response(EMPTY, media_type=MEDIA_TYPE)


def create_baseline_app() -> Starlette:
    """The baseline app: the two read endpoints and a no-op states endpoint."""
    routes = [
        Route("/products", products, methods=["GET"]),
        Route("/product/{id}", product, methods=["GET"]),
        Route(STATES_PATH, no_op_state, methods=["POST"]),
    ]
    return Starlette(routes=routes)


app = create_baseline_app()
