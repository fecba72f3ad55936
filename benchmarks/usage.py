"""The usage map's figure: `python -m pipeline usage` on 50 generated pacts of 40 interactions, from a cold process."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from harness import JSON_UTF8, PROVIDER, ROOT, Row, alternate, ratio, say, timed

PACTS, INTERACTIONS = 50, 40
GOAL_SECONDS = 3.0


def body(content: object) -> dict[str, object]:
    return {"content": content, "contentType": JSON_UTF8, "encoded": False}


def interaction(number: int) -> dict[str, object]:
    """A V4 interaction: in turn one product, the catalogue (an array), and a product that does not exist."""
    product = {"id": str(number), "type": "CREDIT_CARD", "name": f"Product {number}"}
    kinds = [
        (f"a product with ID {number} exists", f"/product/{number}", 200, product),
        ("products exist", "/products", 200, [product, product | {"id": "x"}]),
        (f"a product with ID {number} does not exist", f"/products/{number}", 404, {"error": "not found"}),
    ]
    state, path, status, content = kinds[number % len(kinds)]
    return {
        "type": "Synchronous/HTTP",
        "description": f"request {number}",
        "providerStates": [{"name": state}],
        "request": {"method": "GET", "path": path},
        "response": {"status": status, "body": body(content)},
    }


def write_pacts(folder: Path) -> None:
    """PACTS pacts, each of INTERACTIONS interactions, from as many consumers."""
    for consumer in range(PACTS):
        document = {
            "consumer": {"name": f"bench-consumer-{consumer}"},
            "provider": {"name": PROVIDER},
            "interactions": [interaction(consumer * INTERACTIONS + n) for n in range(INTERACTIONS)],
            "metadata": {"pactSpecification": {"version": "4.0"}},
        }
        (folder / f"bench-consumer-{consumer}-{PROVIDER}.json").write_text(json.dumps(document), encoding="utf-8")


def usage_rows(reps: int) -> list[Row]:
    """`make usage` on PACTS × INTERACTIONS interactions against the same command on pacts/, medians of `reps`."""
    command = [sys.executable, "-m", "pipeline", "usage", "--pact-dir"]
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as folder:
        write_pacts(Path(folder))
        say(f"  usage map of {PACTS}×{INTERACTIONS} interactions vs pacts/ ({reps} runs each)")
        mine, small = alternate(
            lambda: timed([*command, folder], "## Who uses the API"),
            lambda: timed([*command, str(ROOT / "pacts")], "## Who uses the API"),
            reps,
        )
    figure = f"make usage, {PACTS} pacts × {INTERACTIONS} interactions, cold process"
    return [
        Row(
            figure,
            f"{mine:.2f} s",
            f"{small:.2f} s (pacts/)",
            ratio(mine, small),
            f"≤ {GOAL_SECONDS:.1f} s",
            mine <= GOAL_SECONDS,
        )
    ]
