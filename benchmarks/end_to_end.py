"""End-to-end figures: verifying pacts/ from a cold process, and the import time, against the floor."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, Row, alternate, bench_env, ratio, say, timed
from verification import compare_with_floor, project_verify, write_pact

IMPORTTIME = "`python -X importtime`, self time summed per top-level package"


def project_pacts_size() -> int:
    """How many interactions the project's own pacts hold."""
    return sum(len(json.loads(path.read_text())["interactions"]) for path in sorted((ROOT / "pacts").glob("*.json")))


def end_to_end_rows(reps: int) -> list[Row]:
    """Item 3: verifying pacts/ from a cold process, and the import time, each against the floor."""
    size = project_pacts_size()
    with tempfile.TemporaryDirectory(prefix="bench-pacts-") as folder:
        write_pact(Path(folder), "bench-consumer", size)
        say(f"  verify pacts/ ({size} interactions) vs floor ({reps} runs each)")
        mine, floor = compare_with_floor(project_verify(), Path(folder), size, reps)
    say(f"  imports ({reps} runs each)")
    imports, floor_imports = alternate(
        lambda: timed([sys.executable, "-c", "import pipeline.verify"], ""),
        lambda: timed([sys.executable, "-c", "import pact, uvicorn, starlette.applications"], ""),
        reps,
    )
    return [
        Row(
            f"verify pacts/ ({size} interactions), cold process",
            f"{mine:.2f} s",
            f"{floor:.2f} s (floor, {size} generated)",
            ratio(mine, floor),
            "< 0.50 s",
            mine < 0.5,
        ),
        Row(
            "import pipeline.verify",
            f"{imports * 1000:.0f} ms",
            f"{floor_imports * 1000:.0f} ms (pact, uvicorn, starlette)",
            ratio(imports, floor_imports),
        ),
    ]


def import_breakdown(top: int = 8) -> list[tuple[str, float]]:
    """Where `import pipeline.verify` spends its time: self ms per top-level package (-X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pipeline.verify"],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
        if found:
            name = found.group(2).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(found.group(1)) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])[:top]
