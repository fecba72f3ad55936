"""Verification and CI: the only floor that imports `pact`. It uses `states` and `example_provider`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

VERIFIER_THREAD = "verifier"  # the name of the thread a verifier runs in


class PipelineError(Exception):
    """A step cannot go on; the message is one line for a person, and `exit_code` the process's answer."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, as a cancelled CI job sends it: a run stops as Ctrl-C stops it."""


def terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM's handler: raise Terminated."""
    raise Terminated


@contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """While the block runs (an entry point's), SIGTERM stops it as Ctrl-C does: with Terminated."""
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interruption(stop: KeyboardInterrupt) -> tuple[str, int]:
    """How an interrupted run says it stopped, and its exit code: SIGTERM 143, Ctrl-C 130."""
    return ("terminated", 143) if isinstance(stop, Terminated) else ("interrupted", 130)


def leave(code: int) -> int:
    """The exit code of an entry point. After an interruption, a verifier still running in its thread (nothing
    can stop it) ends with the process at once, before it can report or publish anything more."""
    verifying = any(thread.name == VERIFIER_THREAD and thread.is_alive() for thread in threading.enumerate())
    if code in (130, 143) and verifying:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
