"""Reading the system's trust store once per verification: the one speed measure users feel here.

The verifier loads its trust for every request it sends, and the system's certificate folder costs it a
file per certificate; the system's bundle file holds the same certificates in one read."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

BEGIN, END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
USER_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def certificates(pem: bytes) -> frozenset[bytes]:
    """The certificates in a PEM text, each as its DER bytes in base64 with no line breaks."""
    return frozenset(b"".join(part.partition(END)[0].split()) for part in pem.split(BEGIN)[1:])


def distinct_files(folder: str) -> list[str]:
    """The files of a folder, each once however many links name it."""
    files = {}
    for entry in os.scandir(folder):
        if entry.is_file():
            found = entry.stat()
            files[found.st_dev, found.st_ino] = entry.path
    return list(files.values())


@cache
def bundle_holds_the_folder(bundle: str, folder: str) -> bool:
    """Whether a bundle file holds exactly the certificates of the files in a folder (no, when one cannot be read)."""
    try:
        in_folder = frozenset().union(*(certificates(Path(path).read_bytes()) for path in distinct_files(folder)))
        return bool(in_folder) and certificates(Path(bundle).read_bytes()) == in_folder
    except OSError:
        return False


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
