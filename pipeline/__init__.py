"""Verification and CI: the only floor that imports `pact`. It uses `states` and `example_provider`."""

from __future__ import annotations

from types import FrameType


class PipelineError(Exception):
    """A step cannot go on; the message is one line for a person, and `exit_code` the process's answer."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, as a cancelled CI job sends it: a run stops as Ctrl-C stops it."""


def terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM's handler in the entry points (`signal.signal(signal.SIGTERM, terminate)`): raise Terminated."""
    raise Terminated
