from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def check_travis(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate a Travis config against the Travis schema that check-jsonschema ships (no network)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.travis", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_travis_config_is_valid() -> None:
    done = check_travis(ROOT / ".travis.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_invalid_travis_config_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / ".travis.yml"
    broken.write_text("language: python\nscript: {make: ci}\nos: [templeos]\n")
    assert check_travis(broken).returncode != 0


def test_travis_runs_make_ci_and_publishes() -> None:
    config = yaml.safe_load((ROOT / ".travis.yml").read_text())
    assert config["script"] == ["make ci"]
    assert "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS=true" in config["env"]["global"]
    assert "GIT_COMMIT=${TRAVIS_COMMIT}" in config["env"]["global"]
    assert not any("TOKEN" in entry for entry in config["env"]["global"])
