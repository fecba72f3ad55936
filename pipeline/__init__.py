"""Verification and CI: the only floor that imports `pact`. It uses `states` and `example_provider`."""

import sys

# httpx imports its command line (click, rich and pygments: a third of a second) unless that fails;
# the pipeline only makes requests, so every step's process starts without it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
