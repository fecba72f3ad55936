"""Running the pipeline's entry points and Make targets from tests, in a clean environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from pipeline.settings import VARIABLES
from pipeline.trust import USER_TRUST
from tests.support.broker import BrokerDouble
from tests.support.warm import warm

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "pactflow-example-provider-python"
TOKEN = "sentinel-token-5f2b9c"
PASSWORD = "sentinel-password-8d1e4a"
TRUST = ROOT / "tests" / "support" / "trust"
MACHINE_TRUST = {key: os.environ.get(key) for key in USER_TRUST}
# What every test runs with unless it asks otherwise: in its own process (conftest's `isolated`) and in
# the steps it runs (`environment`).
# - No retries of a failed call to the broker: each retry waits longer (0.5 s, then 1 s), and a test of a
#   dead broker would wait for them all.
# - The tests' own trust store: one CA certificate whose key no one has (`tests/support/trust/ca.pem`).
#   The tests reach only doubles on plain-HTTP loopback, where no certificate is checked, yet every TLS
#   client the pact CLI and the verifier build parses its whole trust store first: the system's 144
#   certificates, three times for each `pact` call. The tests of trust set their own, or the machine's
#   (`MACHINE_TRUST`).
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


def warm_run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`python <argv>` in a process of its own, forked from this worker's warm interpreter (`warm`)."""
    code, out, err = warm().run(argv, str(cwd), env, timeout)
    return subprocess.CompletedProcess([sys.executable, *argv], code, out, err)


def pipeline(step: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline <step>`: `make ci` runs the tests first; a test runs the step it then calls."""
    return warm_run(["-m", "pipeline", step], cwd, env, timeout=300)


def verify(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline.verify` with these arguments, as `make verify` runs it."""
    return warm_run(["-m", "pipeline.verify", *args], cwd, env, timeout=120)


def make(target: str, cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A real Make target, run from `cwd` with this test's Python (no install step), warm (`warm`)."""
    command = [
        "make",
        "--no-print-directory",
        "-f",
        str(ROOT / "Makefile"),
        f"BIN={warm().ready().shims}",
        "STAMP=",
        target,
        *args,
    ]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def output(done: subprocess.CompletedProcess[str]) -> str:
    text = done.stdout + done.stderr
    assert TOKEN not in text and PASSWORD not in text
    assert "Traceback" not in text
    return text


def failed_line(text: str, step: str) -> str:
    """The one FAILED line that `step` left in a build's output."""
    (line,) = [line for line in text.splitlines() if line.startswith(f"[{step}] FAILED: ")]
    return line


def failure(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed step leaves (Make's own "Error 1" line follows it)."""
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
