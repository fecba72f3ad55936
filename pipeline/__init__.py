"""Verification and CI: the only floor that imports `pact`. It uses `states` and `example_provider`."""

from __future__ import annotations


class PipelineError(Exception):
    """A step cannot go on; the message is one line for a person, and `exit_code` the process's answer."""

    exit_code = 1
