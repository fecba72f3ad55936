"""Running the pipeline's entry points and Make targets from tests, in a clean environment."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryFile
from typing import TextIO

import pipeline.__main__ as pipeline_main
import pipeline.verify as verify_main
import pipeline.verify_pact as verify_pact_main
from pipeline.settings import VARIABLES
from tests.support.broker import BrokerDouble

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "pactflow-example-provider-python"
TOKEN = "sentinel-token-5f2b9c"
PASSWORD = "sentinel-password-8d1e4a"
TRUST = ROOT / "tests" / "support" / "trust"
BIN = ROOT / ".venv" / "bin"
Done = subprocess.CompletedProcess[str]
# What every test runs with unless it asks otherwise: in its own process (conftest's `isolated`) and in
# the steps it runs (`environment`).
# - No retries of a failed call to the broker: each retry waits longer (0.5 s, then 1 s), and a test of a
#   dead broker would wait for them all.
# - The tests' own trust store: one CA certificate whose key no one has (`tests/support/trust/ca.pem`).
#   The tests reach only doubles on plain-HTTP loopback, where no certificate is checked, yet every TLS
#   client the pact CLI and the verifier build parses its whole trust store first: the system's 144
#   certificates, three times for each `pact` call. The tests of trust set their own.
TEST_DEFAULTS = {
    "PACT_BROKER_HTTP_RETRIES": "0",
    "SSL_CERT_FILE": str(TRUST / "ca.pem"),
    "SSL_CERT_DIR": str(TRUST),
}


def project_pact(consumer: str) -> dict[str, object]:
    """One of the project's own pacts in pacts/, as a document to seed the broker double with."""
    return json.loads((ROOT / "pacts" / f"{consumer}-{PROVIDER}.json").read_text())


def environment(broker: BrokerDouble | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's broker settings, only what the test gives.
    Verification runs in one process (JOBS=1) unless the test asks for workers, and the main build
    publishes no provider contract (its self-verification takes a second) unless the test asks with
    PACT_PUBLISH_PROVIDER_CONTRACT=true, as the provider-contract tests and the secrets proof do; its
    self-verification then sends 2 generated requests per operation (PACT_PROVIDER_CONTRACT_EXAMPLES), not 20:
    those tests are about the build, and `self_verify` is tested at its default on its own.
    The main line of these builds is `master` (MAIN_BRANCH); a test of the default sets MAIN_BRANCH="" (unset).
    Then `TEST_DEFAULTS`: no retries, and the tests' trust store."""
    env = {key: value for key, value in os.environ.items() if key not in VARIABLES}
    env |= {"PACT_DO_NOT_TRACK": "true", "PACT_DIR": str(ROOT / "pacts"), "CAN_I_DEPLOY_RETRIES": "0", "JOBS": "1"}
    env |= {"PACT_PUBLISH_PROVIDER_CONTRACT": "false", "PACT_PROVIDER_CONTRACT_EXAMPLES": "2", "MAIN_BRANCH": "master"}
    env |= TEST_DEFAULTS
    if broker is not None:
        env |= {"PACT_BROKER_BASE_URL": broker.base_url, "PACT_BROKER_TOKEN": TOKEN}
    return env | extra


def dead_port() -> int:
    """A loopback port that nothing listens on: a broker that cannot be reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RunStream(io.TextIOWrapper):
    """`sys.stdout` or `sys.stderr` during a run: text to the run's fd, but what the test's other threads write
    (those running before the run, as a broker double's server logging through a handler the run set up) goes
    to the test's own stream, as it would if the run had a process of its own."""

    def __init__(self, fd: int, test_stream: TextIO) -> None:
        super().__init__(open(fd, "wb", closefd=False))  # noqa: SIM115
        self.test_stream = test_stream
        self.test_threads = set(threading.enumerate()) - {threading.current_thread()}

    def write(self, text: str) -> int:
        if threading.current_thread() in self.test_threads:
            return self.test_stream.write(text)
        return super().write(text)


def run_main(main: Callable[[list[str]], int], argv: list[str], cwd: Path, env: dict[str, str]) -> Done:
    """Call an entry point's `main(argv)` in this process as `python -m` would run it in a process of its own,
    and answer what `subprocess.run(..., capture_output=True, text=True)` would: its exit code and output.

    For the call only, the environment is exactly `env` and the working folder `cwd`. Fd 0 reads nothing;
    fds 1 and 2 go to files, since the verifier writes to them directly, and `sys.stdout` and `sys.stderr`
    (pytest puts its own objects there) write to those fds (`RunStream`). A `SystemExit` (argparse's) becomes the exit
    code; any other exception is raised to the test. As click's `CliRunner` or pytest's `runpytest_inprocess`.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_env, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdout, sys.stderr)
    saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
    with open(os.devnull) as nothing, TemporaryFile("w+") as out, TemporaryFile("w+") as err:
        for fd, target in zip((0, 1, 2), (nothing, out, err), strict=True):
            os.dup2(target.fileno(), fd)
        sys.stdout, sys.stderr = RunStream(1, saved_streams[0]), RunStream(2, saved_streams[1])
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
        finally:
            sys.stdout.flush()  # not closed: a logging handler the call set up may hold it (uvicorn's does)
            sys.stderr.flush()
            sys.stdout, sys.stderr = saved_streams
            for fd, saved in enumerate(saved_fds):
                os.dup2(saved, fd)
                os.close(saved)
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        out.seek(0)
        err.seek(0)
        return Done(argv, code, out.read(), err.read())


def pipeline(step: str, cwd: Path, env: dict[str, str]) -> Done:
    """`python -m pipeline <step>`, in this process (`run_main`): `make ci` runs the tests first; a test
    runs the step it then calls."""
    return run_main(pipeline_main.main, [step], cwd, env)


def verify(cwd: Path, env: dict[str, str], *args: str) -> Done:
    """`python -m pipeline.verify` with these arguments, as `make verify` runs it, in this process (`run_main`)."""
    return run_main(verify_main.main, list(args), cwd, env)


def verify_pact(cwd: Path, env: dict[str, str]) -> Done:
    """`python -m pipeline.verify_pact` (`make verify_pact`), in this process (`run_main`)."""
    return run_main(lambda _: verify_pact_main.main(), [], cwd, env)


def in_a_process(cwd: Path, env: dict[str, str], *args: str) -> Done:
    """`python <args>` in a process of its own: for a run that runs out of time, whose verifier thread nothing
    can stop; in this process it would go on writing into the next test's output."""
    command = [sys.executable, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def make(target: str, cwd: Path, env: dict[str, str], *args: str) -> Done:
    """A real Make target, run from `cwd` with the project's `.venv` (no install step): for the tests of
    what Make itself does with its variables and recipes."""
    command = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), f"BIN={BIN}", "STAMP=", target, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def output(done: Done) -> str:
    text = done.stdout + done.stderr
    assert TOKEN not in text and PASSWORD not in text
    assert "Traceback" not in text
    return text


def failed_line(text: str, step: str) -> str:
    """The one FAILED line that `step` left in a build's output."""
    (line,) = [line for line in text.splitlines() if line.startswith(f"[{step}] FAILED: ")]
    return line


def failure(done: Done) -> str:
    """The one line a failed step leaves (under Make, Make's own "Error 1" line follows it)."""
    (line,) = [line for line in (done.stdout + done.stderr).splitlines() if "] FAILED: " in line]
    return line


def consumer_pact(consumer: str, *products: tuple[str, str], status: int = 200) -> dict[str, object]:
    """A pact that sets up each product by id and name, then expects it back (with `status`)."""
    interactions = [
        {
            "description": f"product {product_id}",
            "providerStates": [{"name": f"a product with ID {product_id} exists", "params": {"name": name}}],
            "request": {"method": "GET", "path": f"/product/{product_id}"},
            "response": {"status": status, "body": {"id": product_id, "type": "CREDIT_CARD", "name": name}},
        }
        for product_id, name in products
    ]
    return {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def named_products(count: int, name: str, first: int = 100) -> list[tuple[str, str]]:
    """`count` products, ids from `first` on, all called `name`: the products of a large pact."""
    return [(str(product_id), name) for product_id in range(first, first + count)]
