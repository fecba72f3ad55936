from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from starlette.requests import Request

from example_provider.responses import JSONResponse

DOCUMENT = "openapi.yaml"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the products API, read from the package once (shared: copy it to change it)."""
    text = files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"{DOCUMENT} does not hold a mapping")
    return document


async def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI document as JSON, the provider contract of the API."""
    return JSONResponse(openapi_document())
