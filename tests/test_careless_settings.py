"""Settings as people really write them: credentials inside the broker URL, `.env` values with `$`,
the example `.env` copied unedited, a timeout of zero."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.broker import BrokerDouble
from tests.support.runs import (
    PASSWORD,
    PROVIDER,
    ROOT,
    TOKEN,
    dead_port,
    environment,
    failure,
    output,
    pipeline,
    project_pact,
    verify,
)


def test_a_token_beside_credentials_in_the_broker_url_is_one_line(tmp_path: Path) -> None:
    env = environment(
        GIT_COMMIT="prov-1",
        PACT_BROKER_BASE_URL=f"http://ci:{PASSWORD}@127.0.0.1:{dead_port()}",
        PACT_BROKER_TOKEN=TOKEN,
    )
    for step in ("ci", "can-i-deploy"):
        done = pipeline(step, tmp_path, env)
        assert done.returncode != 0
        assert failure(done) == (
            f"[{step}] FAILED: PACT_BROKER_BASE_URL has a user name and password in it: give them either "
            "there or as PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD, and with them no PACT_BROKER_TOKEN"
        )


def test_an_unreachable_broker_is_named_without_its_credentials(tmp_path: Path) -> None:
    dead = f"127.0.0.1:{dead_port()}"
    env = environment(
        GIT_COMMIT="prov-1", PACT_BROKER_BASE_URL=f"http://ci:{PASSWORD}@{dead}", PACT_BROKER_HTTP_RETRIES="0"
    )
    for done in (verify(tmp_path, env | {"JOBS": "2"}), pipeline("can-i-deploy", tmp_path, env)):
        assert done.returncode != 0
        assert f"could not reach the broker at http://{dead}" in output(done)  # output() asserts the password is absent


def test_dotenv_values_are_taken_as_written(tmp_path: Path) -> None:
    token = "tok-${HOME}-$USER-x"
    with BrokerDouble(token=token) as broker:
        broker.add_pact(project_pact("pactflow-example-consumer"), branch="main")
        broker.add_version(PROVIDER, "prov-2")
        (tmp_path / ".env").write_text(f"PACT_BROKER_BASE_URL={broker.base_url}\nPACT_BROKER_TOKEN={token}\n")
        done = pipeline("record-deployment", tmp_path, environment(GIT_COMMIT="prov-2"))
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(broker.deployments) == 1


def test_the_example_dotenv_copied_unedited_configures_no_broker(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    done = pipeline("can-i-deploy", tmp_path, environment(GIT_COMMIT="prov-3"))
    assert done.returncode == 0, output(done)
    assert "[can-i-deploy] skipped: no broker is configured" in output(done)


def test_a_verify_timeout_below_one_is_refused(tmp_path: Path) -> None:
    done = verify(tmp_path, environment(VERIFY_TIMEOUT="0"))
    assert done.returncode != 0
    assert "verify: VERIFY_TIMEOUT must be a whole number of 1 or more, got '0'" in output(done).splitlines()
