"""Hostile answers of the broker double: what a broken or hostile broker may send, so that the proofs can show
the pipeline refusing it. One per kind of edge:

- `links`: the route's own answer with every link to the broker pointed at `to` instead (another origin,
  `http` for `https`, a `file://` or any other URL);
- `redirect`: a 307 to `to` followed by the path asked for;
- `deep`: a JSON answer nested deeper than the pipeline reads (`pacts.MAX_DEPTH`);
- `huge`: a JSON answer larger than `pacts.MAX_BYTES`, streamed, without a length;
- `trickle`: the route's own answer, one byte every `every` seconds: each read gets a byte in time, so only
  a deadline over the whole conversation stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from attrs import frozen
from starlette.responses import Response, StreamingResponse

from pipeline.pacts import MAX_BYTES, MAX_DEPTH
from tests.support.broker.model import HAL_JSON

KINDS = frozenset({"links", "redirect", "deep", "huge", "trickle"})
CHUNK = 1024 * 1024


@frozen
class Hostile:
    """How a route answers instead of its own answer."""

    kind: str
    to: str = ""  # where `links` and `redirect` point instead of the broker
    every: float = 1.0  # `trickle`: seconds between bytes


def huge() -> Iterator[bytes]:
    """A JSON object a megabyte larger than MAX_BYTES, a megabyte at a time."""
    yield b'{"padding": "'
    for _ in range(MAX_BYTES // CHUNK + 1):
        yield b"x" * CHUNK
    yield b'"}'


async def trickle(body: bytes, every: float) -> AsyncIterator[bytes]:
    """The body one byte at a time, `every` seconds apart."""
    for byte in body:
        yield bytes([byte])
        await asyncio.sleep(every)


def hostile_answer(hostile: Hostile, answer: Response, base_url: str, path: str) -> Response:
    """What the route sends instead of `answer`, its own answer to `path`."""
    if hostile.kind == "links":
        body = bytes(answer.body).replace(base_url.encode(), hostile.to.encode())
        return Response(body, answer.status_code, media_type=HAL_JSON)
    if hostile.kind == "redirect":
        return Response(status_code=307, headers={"Location": hostile.to + path})
    if hostile.kind == "deep":
        levels = MAX_DEPTH + 50
        return Response(b'{"_links": ' + b"[" * levels + b"]" * levels + b"}", media_type=HAL_JSON)
    if hostile.kind == "huge":
        return StreamingResponse(huge(), media_type=HAL_JSON)
    return StreamingResponse(trickle(bytes(answer.body), hostile.every), media_type=HAL_JSON)
