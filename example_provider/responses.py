from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class JSONResponse(Response):
    """JSON with the charset stated, as the web consumer's pact requires."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
