from __future__ import annotations


class StepFailed(RuntimeError):
    """A pipeline step failed; the message is one line for a person."""


class BrokerStepFailed(RuntimeError):
    """A broker step did not succeed; the message is one line for a person."""
