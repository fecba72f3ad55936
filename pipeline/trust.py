from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
import tempfile
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)
USER_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def fingerprints(pem: bytes) -> frozenset[bytes]:
    """The SHA-256 fingerprints of the certificates in a PEM text."""
    return frozenset(hashlib.sha256(base64.b64decode(block)).digest() for block in PEM_CERTIFICATE.findall(pem))


@cache
def bundle_holds_the_folder(bundle: str, folder: str) -> bool:
    """Whether a bundle file holds exactly the certificates of the files in a folder."""
    in_folder: set[bytes] = set()
    for path in {os.path.realpath(entry.path) for entry in os.scandir(folder)}:
        if os.path.isfile(path):
            in_folder |= fingerprints(Path(path).read_bytes())
    return bool(in_folder) and fingerprints(Path(bundle).read_bytes()) == in_folder


def existing(paths: tuple[str | None, ...], check: Callable[[str], bool]) -> str | None:
    """The first of the paths that passes the check."""
    return next((path for path in paths if path and check(path)), None)


def same_path(named: str | None, system: str) -> bool:
    """Whether a variable is unset, or names the system's own file or folder."""
    return not named or os.path.realpath(named) == os.path.realpath(system)


def system_bundle(environ: Mapping[str, str], paths: ssl.DefaultVerifyPaths) -> str | None:
    """The system's bundle file, when the verifier may read it in place of the system's certificate
    folder: it holds the folder's certificates, and the user chose no trust other than the system's."""
    folder = existing((paths.capath, paths.openssl_capath), os.path.isdir)
    bundle = existing((paths.cafile, paths.openssl_cafile), os.path.isfile)
    if folder is None or bundle is None:
        return None
    if not (same_path(environ.get("SSL_CERT_FILE"), bundle) and same_path(environ.get("SSL_CERT_DIR"), folder)):
        return None
    return bundle if bundle_holds_the_folder(bundle, folder) else None


@contextmanager
def system_trust_read_once(environ: MutableMapping[str, str] = os.environ) -> Iterator[None]:
    """While verifying, point the verifier at the system's bundle and an empty certificate folder:
    it loads its trust for every request it sends, and one file costs less than a folder of them.
    The certificates trusted stay the same; a user's own SSL_CERT_FILE or SSL_CERT_DIR is left alone."""
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
