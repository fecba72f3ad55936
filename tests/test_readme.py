"""The README's essentials stay true: its code is the project's code, and its layout names every module."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pipeline.verifier import verifier_for

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PRODUCT = ("example_provider", "states", "pipeline")


def block_under(heading: str, language: str) -> str:
    """The first fenced block of `language` after the heading."""
    start = README.index(f"\n## {heading}\n")
    found = re.search(rf"^```{language}\n(.*?)^```", README[start:], re.DOTALL | re.MULTILINE)
    assert found is not None
    return found.group(1)


def test_the_readme_starts_with_the_two_commands_and_keeps_its_essentials_early() -> None:
    commands = README.split("```sh\n")[1].split("```")[0]
    assert [line.split()[:2] for line in commands.splitlines()] == [["make", "ci"], ["make", "test"]]
    first = "\n".join(README.splitlines()[:120])
    assert "$ make verify" in first and "@registry.state(" in first and "def verifier_for(" in first
    assert "```mermaid" in README and len(README.splitlines()) <= 250


def test_the_verifiers_set_up_in_the_readme_is_the_projects_own_code() -> None:
    assert block_under("The verifier's set-up", "python") == inspect.getsource(verifier_for)


def layout_modules() -> set[str]:
    """The modules the README's layout names, as paths from the root."""
    named, folder = set(), ""
    for line in block_under("Layout", "").splitlines():
        name = line.strip().split("  ")[0]
        if not line.startswith(" "):
            folder = name
        else:
            named |= {f"{folder}{module.strip()}" for module in name.split(",") if module.strip().endswith(".py")}
    return named


def test_the_layout_names_every_product_module_and_only_modules_that_exist() -> None:
    modules = {str(path.relative_to(ROOT)) for package in PRODUCT for path in (ROOT / package).glob("*.py")}
    named = layout_modules()
    assert named and named <= modules
    assert modules - named == {f"{package}/__init__.py" for package in PRODUCT}
