from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_generator_writes_exactly_the_pacts_in_pacts(tmp_path: Path) -> None:
    """`make pacts` keeps pacts/ true: the consumer DSL writes the same files, byte for byte."""
    subprocess.run([sys.executable, str(ROOT / "consumers" / "generate.py"), str(tmp_path)], check=True, timeout=120)
    written = {path.name: path.read_bytes() for path in tmp_path.glob("*.json")}
    kept = {path.name: path.read_bytes() for path in (ROOT / "pacts").glob("*.json")}
    assert written and written == kept
