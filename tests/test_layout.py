from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each floor may import only the floors below it.
FORBIDDEN = {
    "example_provider": {"pact", "states", "pipeline"},
    "states": {"pact", "pipeline"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports anywhere in its body, lazy imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_floor_imports_nothing_above_it(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules
    breaches = {
        f"{module.relative_to(ROOT)} imports {name}"
        for module in modules
        for name in imported_packages(module) & FORBIDDEN[package]
    }
    assert not breaches


def test_the_check_sees_lazy_and_dotted_imports(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def late():\n    import pact.match\n    from pipeline.verify import run\n")
    assert imported_packages(module) == {"pact", "pipeline"}


def test_serving_the_production_app_loads_no_pact_states_or_pipeline() -> None:
    probe = "import sys, example_provider.app; print(sorted({m.split('.')[0] for m in sys.modules} & {'pact', 'states', 'pipeline'}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
