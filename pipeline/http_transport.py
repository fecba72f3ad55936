"""The transport of the pipeline's HTTP clients: retries, and one TLS context per process.

Building a TLS context loads every trusted certificate, tens of milliseconds of CPU; httpx builds one
for each new transport, and a build makes a client per broker call and per pact it fetches."""

from __future__ import annotations

import os
import ssl
from functools import cache

import httpx


@cache
def _tls_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    """The context httpx builds for this trust (it reads SSL_CERT_FILE and SSL_CERT_DIR), built once."""
    return httpx.create_ssl_context()


def transport(retries: int) -> httpx.HTTPTransport:
    """A transport that retries failed connections, with the TLS context for the trust this process has now."""
    context = _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return httpx.HTTPTransport(verify=context, retries=retries)
