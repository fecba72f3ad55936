from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The project's own Python: its packages, its tests, its benchmarks and the pact generator.
PROJECT = ("example_provider", "states", "pipeline", "tests", "benchmarks", "consumers")

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


def loaded_after(imports: str, packages: tuple[str, ...]) -> list[str]:
    """Which of these top-level packages a fresh interpreter has loaded once it has run `import <imports>`
    (a name held back with None in `sys.modules` is not loaded)."""
    loaded = "{name.split('.')[0] for name, module in sys.modules.items() if module is not None}"
    probe = f"import sys, {imports}; print(sorted({loaded} & {set(packages)!r}))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return list(ast.literal_eval(done.stdout))


def test_serving_the_production_app_loads_no_pact_states_or_pipeline() -> None:
    assert loaded_after("example_provider.app", ("pact", "states", "pipeline")) == []


def test_a_verification_of_local_pacts_loads_no_http_client_or_schemathesis() -> None:
    assert loaded_after("pipeline.verify, pipeline.__main__", ("httpx", "httpcore", "schemathesis", "hypothesis")) == []


def module_names(root: Path, folders: tuple[str, ...]) -> dict[str, Path]:
    """Every module under the folders, by its dotted name from the root."""
    paths = (path for folder in folders for path in sorted((root / folder).rglob("*.py")))
    return {".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path for path in paths}


def script_folder(path: Path, root: Path) -> str:
    """The dotted name of the folder Python puts on sys.path for a module: the nearest one above it
    that is not a package (the root for a package module, `tests` for a test)."""
    folder = path.parent
    while (folder / "__init__.py").exists() and folder != root:
        folder = folder.parent
    return ".".join(folder.relative_to(root).parts)


def imported_names(path: Path, package: str) -> Iterator[str]:
    """The dotted names a module imports anywhere in its body, `from a import b` as both `a` and `a.b`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*parts, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def import_graph(root: Path, folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Which project modules each project module imports, lazy imports included."""
    modules = module_names(root, folders)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        prefix = script_folder(path, root)
        found = set()
        for imported in imported_names(path, package):
            for candidate in (f"{prefix}.{imported}" if prefix else imported, imported):
                if candidate in modules and candidate != name:
                    found.add(candidate)
                    break
        graph[name] = found
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One chain of imports that leads back to where it started, or [] when there is none."""
    done: set[str] = set()

    def visit(module: str, chain: list[str]) -> list[str]:
        if module in chain:
            return [*chain[chain.index(module) :], module]
        if module in done:
            return []
        for imported in sorted(graph[module]):
            if cycle := visit(imported, [*chain, module]):
                return cycle
        done.add(module)
        return []

    return next((cycle for module in sorted(graph) if (cycle := visit(module, []))), [])


def test_no_module_of_the_project_imports_one_that_imports_it_back() -> None:
    graph = import_graph(ROOT, PROJECT)
    assert "pipeline.verifier" in graph["pipeline.workers"]
    assert import_cycle(graph) == []


def test_the_cycle_check_sees_a_lazy_loop_between_packages(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "a.py").write_text("from app import b\n")
    (tmp_path / "app" / "b.py").write_text("def late():\n    from .a import thing\n")
    assert import_cycle(import_graph(tmp_path, ("app",))) == ["app.a", "app.b", "app.a"]


def test_the_service_and_the_states_stay_small() -> None:
    service = sorted(path.name for path in (ROOT / "example_provider").glob("*.py"))
    assert service == ["__init__.py", "app.py", "store.py"]
    assert len(list((ROOT / "states").glob("*.py"))) <= 5
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for folder in ("example_provider", "states")
        for path in sorted((ROOT / folder).glob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) >= 250
    ]
    assert too_long == []
