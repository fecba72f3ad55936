from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from starlette.requests import Request

from example_provider.responses import JSONResponse

DOCUMENT = "openapi.yaml"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of the products API, read from the package once (shared: copy it to change it)."""
    import yaml  # here, not at the top: only this route needs it, and a verification run starts faster without

    text = files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"{DOCUMENT} does not hold a mapping")
    return document


async def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI document as JSON, the provider contract of the API."""
    return JSONResponse(openapi_document())
