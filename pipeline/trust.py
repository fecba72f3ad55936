"""Reading the system's trust store once per verification: the one speed measure users feel here.

The verifier loads its trust for every request it sends, and the system's certificate folder costs it a
file per certificate; the system's bundle file holds the same certificates in one read."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

USER_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR")


@cache
def certificates(path: str) -> frozenset[bytes]:
    """The certificates in a PEM file (read once a process), each as its DER bytes in base64 with no line breaks."""
    parts = Path(path).read_bytes().split(b"-----BEGIN CERTIFICATE-----")[1:]
    return frozenset(b"".join(part.partition(b"-----END CERTIFICATE-----")[0].split()) for part in parts)


def distinct_files(folder: str) -> list[str]:
    """The files of a folder, each once however many links name it (a certificate folder names each certificate
    twice: by its name and by its hash)."""
    files = {}
    for entry in os.scandir(folder):
        if entry.is_file():
            found = entry.stat()
            files[found.st_dev, found.st_ino] = entry.path
    return list(files.values())


def system_bundle(environ: Mapping[str, str], paths: ssl.DefaultVerifyPaths) -> str | None:
    """The system's bundle file, when it holds exactly the certificates of the files in the system's certificate
    folder and the user chose no trust other than the system's (SSL_CERT_FILE and SSL_CERT_DIR unset or naming
    the system's own); None when one of them cannot be read."""
    folder = next((path for path in (paths.capath, paths.openssl_capath) if path and os.path.isdir(path)), None)
    bundle = next((path for path in (paths.cafile, paths.openssl_cafile) if path and os.path.isfile(path)), None)
    if folder is None or bundle is None:
        return None
    for name, system in (("SSL_CERT_FILE", bundle), ("SSL_CERT_DIR", folder)):
        if environ.get(name) and os.path.realpath(environ[name]) != os.path.realpath(system):
            return None
    try:
        in_folder = frozenset().union(*(certificates(path) for path in distinct_files(folder)))
        return bundle if in_folder and certificates(bundle) == in_folder else None
    except OSError:
        return None


@contextmanager
def system_trust_read_once(environ: MutableMapping[str, str] = os.environ) -> Iterator[None]:
    """While verifying, point the verifier at the system's bundle and an empty certificate folder, when
    `system_bundle` finds the same certificates trusted that way."""
    bundle = system_bundle(environ, ssl.get_default_verify_paths())
    if bundle is None:
        yield
        return
    saved = {name: environ[name] for name in USER_TRUST if name in environ}
    with tempfile.TemporaryDirectory(prefix="no-certificates-") as empty:
        environ.update(SSL_CERT_FILE=bundle, SSL_CERT_DIR=empty)
        try:
            yield
        finally:
            for name in USER_TRUST:
                environ.pop(name, None)
            environ.update(saved)
