from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

# One encoder for every response: `json.dumps` with options builds a new one per call, for the same output.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class JSONResponse(Response):
    """JSON with the charset stated, as the web consumer's pact requires."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode()
