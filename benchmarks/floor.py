"""The verifier's floor: pact-python's Verifier replaying a pact folder against the bare baseline app.

`python benchmarks/floor.py PACT_DIR` serves `baseline_app` (no store, a no-op states endpoint) with
uvicorn in a thread on loopback, verifies every `*.json` in PACT_DIR with the same verifier settings as
the project's entry point, stops the server as the project does (`should_exit`, then join), prints
`N passed, M failed` and exits 0 when all passed.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

import uvicorn  # noqa: E402
from pact import Verifier  # noqa: E402  (the telemetry switch must be set before pact loads)

from baseline_app import STATES_PATH, create_baseline_app  # noqa: E402

LOOPBACK = "127.0.0.1"
PROVIDER = "pactflow-example-provider-python"


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def start(port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """The baseline app served by uvicorn in a thread, once it accepts connections."""
    config = uvicorn.Config(create_baseline_app(), host=LOOPBACK, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("floor: the baseline app did not start")
        time.sleep(0.001)
    return server, thread


def verify(pact_dir: Path, base_url: str) -> tuple[int, int]:
    """Replay every pact in the folder; answer (passed, failed)."""
    verifier = Verifier(PROVIDER, host=LOOPBACK).add_transport(url=base_url)
    verifier.set_coloured_output(enabled=False)
    verifier.state_handler(base_url + STATES_PATH, teardown=True, body=True)
    for path in sorted(pact_dir.glob("*.json")):
        verifier.add_source(str(path))
    try:
        verifier.verify()
    except RuntimeError:
        pass  # the results say what failed
    results = verifier.results.get("interactionResults", [])
    passed = sum(item.get("result") == "OK" for item in results)
    return passed, len(results) - passed


def main() -> int:
    """Serve, verify, report."""
    port = free_port()
    server, thread = start(port)
    passed, failed = verify(Path(sys.argv[1]), f"http://{LOOPBACK}:{port}")
    server.should_exit = True
    thread.join()  # leaving uvicorn running in a daemon thread at exit crashes the interpreter now and then
    print(f"{passed} passed, {failed} failed")
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
