"""The verifier loads its trust store for every request it sends: a verification has it read the system's
bundle in place of the certificate folder, with the same certificates trusted, and leaves a user's own
SSL_CERT_FILE or SSL_CERT_DIR alone."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline import trust
from pipeline.trust import system_bundle, system_trust_read_once
from pipeline.verify import main
from tests.support.runs import ROOT, environment

PACT = ROOT / "pacts" / "pactflow-example-consumer-pactflow-example-provider-python.json"
Issuer = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def certificate(name: str, issuer: Issuer | None = None) -> Issuer:
    """A CA certificate (no issuer) or a server certificate for 127.0.0.1 issued by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(item.public_bytes(serialization.Encoding.PEM) for item in certificates)


@pytest.fixture(scope="module")
def test_ca() -> Issuer:
    return certificate("private test CA")


@pytest.fixture
def no_user_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user who chose no trust of their own, whatever this machine's environment sets."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verifier in this process sends no usage statistics."""
    monkeypatch.setenv("PACT_DO_NOT_TRACK", "true")


@pytest.fixture
def https_pact(tmp_path: Path, test_ca: Issuer) -> Iterator[str]:
    """The URL of a pact served over HTTPS on loopback, with a certificate from the private test CA."""
    server_cert, server_key = certificate("127.0.0.1", test_ca)
    (tmp_path / "site").mkdir()
    shutil.copy(PACT, tmp_path / "site" / "pact.json")
    (tmp_path / "server.pem").write_bytes(pem(server_cert))
    key_bytes = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "server.key").write_bytes(key_bytes)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site")))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/pact.json"
    server.shutdown()
    server.server_close()


def verify_url(url: str, capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Verify one pact URL with the verify entry point in this process: its exit code and output."""
    code = main(["--pact-url", url])
    return code, capfd.readouterr().out


def test_a_pact_from_a_private_ca_is_refused_by_default(
    https_pact: str, no_user_trust: None, capfd: pytest.CaptureFixture[str]
) -> None:
    code = main(["--pact-url", https_pact])
    err = capfd.readouterr().err
    assert code == 2
    assert f"could not fetch the pact {https_pact}: ConnectError" in err


def test_a_pact_from_a_private_ca_passes_with_ssl_cert_file_naming_it(
    https_pact: str,
    test_ca: Issuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "company-ca.pem").write_bytes(pem(test_ca[0]))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "company-ca.pem"))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    code, out = verify_url(https_pact, capfd)
    assert code == 0, out
    assert "verification passed: 3 passed, 0 failed" in out
    assert os.environ["SSL_CERT_FILE"] == str(tmp_path / "company-ca.pem")


@pytest.fixture
def system(tmp_path: Path) -> ssl.DefaultVerifyPaths:
    """A system whose certificate folder holds two CAs, one file each, and a bundle of both."""
    first, second = certificate("first root")[0], certificate("second root")[0]
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "first.pem").write_bytes(pem(first))
    (folder / "second.pem").write_bytes(pem(second))
    (folder / "a1b2c3d4.0").symlink_to("first.pem")  # the hash links c_rehash makes
    (folder / "README").write_text("not a certificate\n")
    (folder / "gone.pem").symlink_to("removed.pem")  # a dangling link, as a removed certificate leaves
    (tmp_path / "bundle.pem").write_bytes(pem(second, first))
    return ssl.DefaultVerifyPaths(
        str(tmp_path / "bundle.pem"),
        str(folder),
        "SSL_CERT_FILE",
        str(tmp_path / "none.pem"),
        "SSL_CERT_DIR",
        str(folder),
    )


def test_with_no_trust_of_the_users_the_verifier_reads_the_bundle(system: ssl.DefaultVerifyPaths) -> None:
    assert system_bundle({}, system) == system.cafile


def test_a_user_naming_the_systems_own_bundle_and_folder_gets_the_bundle(system: ssl.DefaultVerifyPaths) -> None:
    assert system_bundle({"SSL_CERT_FILE": system.cafile, "SSL_CERT_DIR": system.capath + "/"}, system) == system.cafile


@pytest.mark.parametrize("name", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_users_own_trust_is_left_alone(system: ssl.DefaultVerifyPaths, tmp_path: Path, name: str) -> None:
    assert system_bundle({name: str(tmp_path / "company-ca")}, system) is None


def test_a_system_with_no_bundle_file_is_left_alone(system: ssl.DefaultVerifyPaths) -> None:
    assert system_bundle({}, system._replace(cafile="/no/such/bundle.pem")) is None  # macOS: the keychain


def test_a_bundle_that_differs_from_the_folder_is_left_alone(system: ssl.DefaultVerifyPaths) -> None:
    Path(system.capath, "third.pem").write_bytes(pem(certificate("third root")[0]))
    assert system_bundle({}, system) is None


def test_the_verification_is_given_the_bundle_and_an_empty_folder_then_the_old_values(
    system: ssl.DefaultVerifyPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trust.ssl, "get_default_verify_paths", lambda: system)
    environ = {"SSL_CERT_FILE": system.cafile, "PATH": "/bin"}
    with system_trust_read_once(environ):
        given = dict(environ)
        assert os.listdir(given["SSL_CERT_DIR"]) == []
    assert given["SSL_CERT_FILE"] == system.cafile
    assert environ == {"SSL_CERT_FILE": system.cafile, "PATH": "/bin"}


def test_a_user_with_their_own_trust_gives_the_verification_just_that(
    system: ssl.DefaultVerifyPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(trust.ssl, "get_default_verify_paths", lambda: system)
    environ = {"SSL_CERT_DIR": str(tmp_path)}
    with system_trust_read_once(environ):
        assert environ == {"SSL_CERT_DIR": str(tmp_path)}


def most_reads_of_a_certificate(trace: str, folder: str, bundle: str) -> int:
    """How often a trace shows the most-opened file of the certificate folder opened, the bundle aside."""
    opened = Counter(line.split('"')[1] for line in trace.splitlines() if "openat(" in line and '"' in line)
    in_folder = [
        count for path, count in opened.items() if Path(path).parent == Path(folder) and Path(path) != Path(bundle)
    ]
    return max(in_folder, default=0)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_the_certificate_folder_is_not_read_per_interaction(tmp_path: Path, no_user_trust: None) -> None:
    """A subprocess under strace, which counts the files it opens."""
    paths = ssl.get_default_verify_paths()
    env = {key: value for key, value in environment().items() if key not in trust.USER_TRUST}
    bundle = system_bundle(env, paths)
    if bundle is None:
        pytest.skip("this system has no bundle that holds its certificate folder")
    trace = tmp_path / "trace"
    command = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=openat",
        "-o",
        str(trace),
        sys.executable,
        "-m",
        "pipeline.verify",
        "--pact-url",
        str(PACT),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    interactions = len(json.loads(PACT.read_text())["interactions"])
    folder = paths.capath if os.path.isdir(paths.capath) else paths.openssl_capath
    assert interactions > 1
    assert most_reads_of_a_certificate(trace.read_text(), folder, bundle) <= 1  # each file was read for every request
