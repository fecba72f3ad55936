"""Verification figures: the project's entry point against the verifier's floor (floor.py), on generated pacts."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness import HERE, JSON_UTF8, PROVIDER, Row, alternate, ratio, say, timed


def interaction(product_id: str) -> dict[str, object]:
    """A V4 interaction: given the product exists, GET it and expect a product-shaped body."""
    return {
        "type": "Synchronous/HTTP",
        "description": f"a request for product {product_id}",
        "pending": False,
        "providerStates": [{"name": f"a product with ID {product_id} exists"}],
        "request": {"method": "GET", "path": f"/product/{product_id}"},
        "response": {
            "status": 200,
            "headers": {"Content-Type": [JSON_UTF8]},
            "body": {
                "content": {"id": product_id, "type": "CREDIT_CARD", "name": f"Product {product_id}"},
                "contentType": JSON_UTF8,
                "encoded": False,
            },
            "matchingRules": {"body": {"$": {"combine": "AND", "matchers": [{"match": "type"}]}}},
        },
    }


def write_pact(folder: Path, consumer: str, count: int, first_id: int = 1) -> Path:
    """A pact file of `count` interactions between `consumer` and the provider."""
    document = {
        "consumer": {"name": consumer},
        "provider": {"name": PROVIDER},
        "interactions": [interaction(str(first_id + i)) for i in range(count)],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    path = folder / f"{consumer}-{PROVIDER}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def project_verify(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.verify", *args]


def floor_verify(pact_dir: Path) -> list[str]:
    return [sys.executable, str(HERE / "floor.py"), str(pact_dir)]


def compare_with_floor(project: Sequence[str], floor_dir: Path, size: int, reps: int) -> tuple[float, float]:
    """Median wall times of the project's verification command and of the floor on `floor_dir`, alternated."""
    return alternate(
        lambda: timed(project, f"verification passed: {size} passed, 0 failed"),
        lambda: timed(floor_verify(floor_dir), f"{size} passed, 0 failed"),
        reps,
    )


def verification_rows(sizes: Sequence[int], reps: int) -> list[Row]:
    """Item 2: the project's entry point against the verifier's floor, on generated pacts."""
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-pacts-") as folder:
            write_pact(Path(folder), "bench-consumer", size)
            say(f"  verify N={size}: project vs floor ({reps} runs each)")
            mine, floor = compare_with_floor(project_verify("--pact-dir", folder), Path(folder), size, reps)
        figure = f"verify N={size} interactions, wall time"
        rows.append(
            Row(figure, f"{mine:.2f} s", f"{floor:.2f} s (floor)", ratio(mine, floor), "≤ 0.65", mine <= 0.65 * floor)
        )
    return rows
