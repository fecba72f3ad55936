"""The verifier's floor: pact-python's Verifier replaying a pact folder against the bare baseline app.

`python benchmarks/floor.py PACT_DIR` serves `baseline_app` (no store, a no-op states endpoint) in the
project's test server (`pipeline.server.running_server`: uvicorn in a thread on loopback), verifies every
`*.json` in PACT_DIR with the same verifier settings as the project's entry point, prints
`N passed, M failed` and exits 0 when all passed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # before pact loads

from pact import Verifier

from baseline_app import STATES_PATH, create_baseline_app
from pipeline.server import LOOPBACK, running_server

PROVIDER = "pactflow-example-provider-python"


def verify(pact_dir: Path, base_url: str) -> tuple[int, int]:
    """Replay every pact in the folder; answer (passed, failed)."""
    verifier = Verifier(PROVIDER, host=LOOPBACK).add_transport(url=base_url)
    verifier.set_coloured_output(enabled=False)
    verifier.state_handler(base_url + STATES_PATH, teardown=True, body=True)
    for path in sorted(pact_dir.glob("*.json")):
        verifier.add_source(str(path))
    with contextlib.suppress(RuntimeError):  # the results say what failed
        verifier.verify()
    results = verifier.results.get("interactionResults", [])
    passed = sum(item.get("result") == "OK" for item in results)
    return passed, len(results) - passed


def main() -> int:
    """Serve, verify, report."""
    with running_server(create_baseline_app()) as base_url:
        passed, failed = verify(Path(sys.argv[1]), base_url)
    print(f"{passed} passed, {failed} failed")
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
