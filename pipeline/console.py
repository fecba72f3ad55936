from __future__ import annotations


def say(step: str, message: str) -> None:
    """One line of the pipeline's own report."""
    print(f"[{step}] {message}", flush=True)
