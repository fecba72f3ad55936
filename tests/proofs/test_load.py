from __future__ import annotations

import asyncio
import json
import ssl
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx

from example_provider.app import app as production_app
from example_provider.store import BASELINE

from .budget import sized
from .contract import JSON_UTF8
from .report import Proof

TOTAL = sized(1_000, 20_000)
CONNECTIONS = 50
PATHS = ("/products", "/product/10", "/products/11", "/product/nope")


def _json(value: Any) -> bytes:
    """JSON as the API writes it: UTF-8, no spaces."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def expected_answers() -> dict[str, tuple[int, bytes]]:
    """The exact status and body each load path must answer, from the baseline alone."""
    products = {product.id: product.to_json() for product in BASELINE}
    return {
        "/products": (200, _json(list(products.values()))),
        "/product/10": (200, _json(products["10"])),
        "/products/11": (200, _json(products["11"])),
        "/product/nope": (404, _json({"error": "no product with ID nope"})),
    }


async def _connection(
    base_url: str, tls: ssl.SSLContext, turns: Iterator[int], tally: Counter[str], wrong: list[str]
) -> None:
    """One keep-alive connection sending requests until the shared turns run out."""
    expected = expected_answers()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, verify=tls, limits=limits, timeout=30) as client:
        for turn in turns:
            path = PATHS[turn % len(PATHS)]
            try:
                response = await client.get(path)
            except httpx.TransportError as error:
                tally["resets" if isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError) else "errors"] += 1
                continue
            tally["requests"] += 1
            answer = (response.status_code, response.content)
            if answer != expected[path] or response.headers.get("content-type") != JSON_UTF8:
                tally["wrong"] += 1
                wrong.append(f"{path}: {answer!r}"[:200])


async def _load(base_url: str) -> tuple[Counter[str], list[str]]:
    """TOTAL requests over CONNECTIONS concurrent connections, counted by outcome."""
    turns = iter(range(TOTAL))
    tally: Counter[str] = Counter()
    wrong: list[str] = []
    tls = httpx.create_ssl_context()  # one for all: each client would load the trusted certificates again
    await asyncio.gather(*(_connection(base_url, tls, turns, tally, wrong) for _ in range(CONNECTIONS)))
    return tally, wrong


def test_a_bounded_load_is_answered_exactly(proof: Proof, production_url: str) -> None:
    """TOTAL requests over 50 connections: every answer exact, no error, no reset, the store untouched."""
    store = production_app.state.store
    before = store.snapshot()
    assert before == BASELINE
    tally, wrong = asyncio.run(_load(production_url))
    proof.count("requests", tally["requests"])
    proof.count("connections", CONNECTIONS)
    proof.detail = f"{tally['errors']} errors, {tally['resets']} resets, {tally['wrong']} wrong answers"
    assert wrong == []
    assert (tally["errors"], tally["resets"], tally["wrong"]) == (0, 0, 0)
    assert tally["requests"] == TOTAL
    assert store.snapshot() == before
