"""`make help` for people: the targets under a few headings, every line within 100 characters."""

from __future__ import annotations

import re
from pathlib import Path

from states import registry
from tests.support.runs import ROOT, environment, make

EVERYDAY = {"ci", "test", "verify", "verify_pact", "check"}
RELEASES = {"can_i_deploy", "deploy", "record_deployment"}
BROKER_SET_UP = {
    "create_or_update_travis_webhook",
    "test_travis_webhook",
    "create_travis_token_secret",
    "create_or_update_github_webhook",
    "test_github_webhook",
    "create_github_token_secret",
}


def headings(text: str) -> dict[str, list[str]]:
    """The targets `make help` lists, by the heading they are listed under."""
    found: dict[str, list[str]] = {}
    heading = ""
    for line in text.splitlines()[1:]:
        if line and not line.startswith(" "):
            heading = line
            found[heading] = []
        elif line:
            found.setdefault(heading, []).append(line.split()[0])
    return found


def under(found: dict[str, list[str]], word: str) -> set[str]:
    (heading,) = [heading for heading in found if word in heading.lower()]
    return set(found[heading])


def test_make_help_groups_the_targets_in_lines_of_at_most_100_characters(tmp_path: Path) -> None:
    done = make("help", tmp_path, environment())
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("Usage: make <target>")
    assert max(len(line) for line in done.stdout.splitlines()) <= 100
    found = headings(done.stdout)
    assert "" not in found  # every target sits under a heading
    assert under(found, "everyday") >= EVERYDAY
    assert under(found, "release") >= RELEASES
    assert under(found, "broker set-up") == BROKER_SET_UP
    documented = re.findall(r"^([a-z_]+):.*## ", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert sorted(target for targets in found.values() for target in targets) == sorted(documented)


def test_make_states_lists_every_declared_state(tmp_path: Path) -> None:
    done = make("states", tmp_path, environment())
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[:2] == ["| provider state | what its setup does |", "| --- | --- |"]
    assert [line.split("`")[1] for line in lines[2:]] == registry.patterns
    assert '| `no products exist` | Empty the catalogue; answers `{"ids": []}`. |' in lines
