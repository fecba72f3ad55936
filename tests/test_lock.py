"""uv.lock: every dependency pinned with hashes, .venv exactly as locked, a stale lock refused in one line.
None of these tests reaches the package index: uv runs offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.support.runs import ROOT

UV = ROOT / ".tools" / "bin" / "uv"
STALE = "uv.lock is out of date with pyproject.toml: run make lock"


def uv(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert UV.exists(), "uv is not installed: run `make install`"
    return subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def project_copy(folder: Path) -> Path:
    """The files that make install reads, in a folder of their own."""
    for name in ("Makefile", "pyproject.toml", "setup.cfg", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def make_in(folder: Path, target: str) -> subprocess.CompletedProcess[str]:
    """A target of the project copy's Makefile, with uv offline and a cache of its own (empty)."""
    command = ["make", "--no-print-directory", "-f", str(folder / "Makefile"), f"UV={UV}", target]
    env = os.environ | {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(folder / ".uv-cache")}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_every_package_from_the_index_is_pinned_with_hashes() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    from_index = [package for package in lock["package"] if "registry" in package["source"]]
    assert len(from_index) > 30
    for package in from_index:
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(file["hash"].startswith("sha256:") for file in files), package["name"]


def test_the_lock_matches_pyproject_and_the_venv_matches_the_lock() -> None:
    assert uv("lock", "--check", "--offline").returncode == 0
    done = uv("sync", "--check", "--frozen", "--extra", "test", "--offline", "--python", sys.executable)
    assert done.returncode == 0, done.stderr


def test_a_stale_lock_is_refused_in_one_line_naming_make_lock(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"attrs>=23.1"', '"attrs>=23.2"'))
    done = make_in(project, "install")
    assert done.returncode != 0
    assert done.stdout.strip() == STALE
    assert not (project / ".venv").exists()


def test_make_lock_locks_its_own_project(tmp_path: Path) -> None:
    """`make lock` runs `uv lock` on the project its Makefile is in. A lock that matches pyproject.toml needs no
    package index, and uv leaves it as it is; bringing a stale lock up to date would ask the index."""
    project = project_copy(tmp_path)
    done = make_in(project, "lock")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{UV} lock --project {project}/" in done.stdout and "Resolved " in done.stderr
    assert (project / "uv.lock").read_bytes() == (ROOT / "uv.lock").read_bytes()
    assert uv("lock", "--check", "--offline", cwd=project).returncode == 0


def test_updates_are_proposed_weekly_and_grouped_for_the_lock_and_the_actions() -> None:
    path = ROOT / ".github" / "dependabot.yml"
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.dependabot", str(path)]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    updates = yaml.safe_load(path.read_text())["updates"]
    assert {update["package-ecosystem"] for update in updates} == {"uv", "github-actions"}
    assert all(update["schedule"]["interval"] == "weekly" and update["groups"] for update in updates)
