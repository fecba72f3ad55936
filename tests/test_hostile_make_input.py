"""Values given to make reach Python as written and never become shell text, make echoes none of
them, and no value reaches the `pact` CLI as an option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, ROOT, environment, failure, make, output

MARKER = "marker-7c41e0"
# The variables a user, a CI or a webhook sets and the pipeline reads.
OUTSIDE = (
    "PACT_URL",
    "JOBS",
    "PACT_DIR",
    "GIT_COMMIT",
    "GIT_BRANCH",
    "PACT_BROKER_BASE_URL",
    "DEPLOY_ENVIRONMENT",
    "MAIN_BRANCH",
    "VERIFY_TIMEOUT",
    "PACT_PROVIDER_NAME",
    "TRAVIS_REPO_SLUG",
    "GITHUB_REPOSITORY",
    "FIELD",
    "OPERATION",
)


def targets() -> list[str]:
    return re.findall(r"^([a-z_]+):.*## ", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)


@pytest.mark.parametrize(
    "value",
    ["x'; touch {owned}; echo '", "$(shell touch {owned})", 'a$HOMEb `touch {owned}` "q" $$x ;c'],
    ids=["quotes", "make-function", "dollar-backticks"],
)
def test_a_hostile_pact_url_reaches_python_as_written(tmp_path: Path, value: str) -> None:
    owned = tmp_path / "owned"
    pact_url = value.format(owned=owned)
    done = make("verify_pact", tmp_path, environment(), f"PACT_URL={pact_url}")
    assert done.returncode != 0 and not owned.exists()
    (line,) = [
        line for line in done.stderr.splitlines() if not line.startswith("make")
    ]  # not make's own "Error 2" line
    assert line == f"verify: pact file not found: {pact_url}"


def test_jobs_is_read_by_python_not_the_shell(tmp_path: Path) -> None:
    owned = tmp_path / "owned"
    done = make("verify", tmp_path, environment(), f"JOBS=1; touch {owned}")
    assert done.returncode != 0 and not owned.exists()
    assert f"JOBS must be a whole number of 1 or more, got '1; touch {owned}'" in output(done)


def test_make_echoes_no_value(tmp_path: Path) -> None:
    values = [f"{name}={MARKER}" for name in OUTSIDE]
    for target in targets():
        plan = make(target, tmp_path, environment(), "-n", *values)
        assert MARKER not in plan.stdout + plan.stderr, target


def test_every_phony_target_exists(tmp_path: Path) -> None:
    (phony,) = re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    names = phony.replace("\\\n", " ").split()
    assert set(names) == set(targets())


def test_verify_pact_without_pact_url_is_one_line_from_python(tmp_path: Path) -> None:
    done = make("verify_pact", tmp_path, environment())
    assert done.returncode == 2
    (line,) = [
        line for line in done.stderr.splitlines() if not line.startswith("make")
    ]  # not make's own "Error 2" line
    assert line == "verify_pact needs PACT_URL=<pact file or URL>"


@pytest.mark.parametrize("version", ["--help", "-x", "--version=1"])
@pytest.mark.parametrize("target", ["can_i_deploy", "record_deployment", "deploy"])
def test_no_value_reaches_the_pact_cli_as_an_option(
    broker: BrokerDouble, tmp_path: Path, target: str, version: str
) -> None:
    broker.add_version(PROVIDER, version)
    done = make(target, tmp_path, environment(broker, GIT_COMMIT=version, GIT_BRANCH="master"))
    assert done.returncode != 0
    assert failure(done).endswith(f"the pact CLI would read {version!r} as an option: a value cannot start with '-'")
    assert not any(request.path == "/matrix" or "/versions/" in request.path for request in broker.requests)


def test_an_environment_name_cannot_be_an_option_either(broker: BrokerDouble, tmp_path: Path) -> None:
    done = make("can_i_deploy", tmp_path, environment(broker, GIT_COMMIT="prov-1", DEPLOY_ENVIRONMENT="-h"))
    assert done.returncode != 0 and "'-h' as an option" in failure(done)
