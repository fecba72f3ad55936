from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

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


class RenderedJSONResponse(Response):
    """JSON already rendered by `render_json`, answered as `JSONResponse` answers."""

    media_type = JSONResponse.media_type
