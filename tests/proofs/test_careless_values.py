"""No traceback from any value, and a report that never harms what it names.

Every setting, from the environment or `.env`, takes any text: it is used, or refused in one line that names
the variable (exit 2), and a verification refused so still leaves its report. The report path is written
only as a regular file, through a new file renamed over it: `/dev/null` means no report; a folder, a FIFO,
a link and a name too long are refused in one line and left as they were."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from junitparser import JUnitXml

from pipeline.junit import discard, write_verification
from pipeline.settings import VARIABLES, Settings, SettingsError
from tests.support.runs import ROOT, environment, output, pipeline, verify

from .budget import sized
from .report import Proof

PACTS = ROOT / "pacts"
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # what a file or environment can hold
# a value a user could give, as the issue names them: one for each way a value goes wrong
CARELESS = {
    "PACT_BROKER_BASE_URL": ("http://[::1", "is not a usable URL"),
    "PACT_BROKER_TOKEN": ("tok\nen", "has a control character (\\x0a) at position 4"),
    "PACT_URL": ("http://broker.example:99999/pact", "is not a usable URL"),
    "JOBS": ("²", "must be a whole number of 1 or more"),
    "VERIFY_TIMEOUT": ("9\x1b[2J", "has a control character (\\x1b) at position 2"),
}


@settings(max_examples=sized(150, 3000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(VARIABLES)), value=TEXT, in_file=st.booleans())
def test_any_value_of_any_setting_is_used_or_refused_naming_it(
    proof: Proof, tmp_path: Path, name: str, value: str, in_file: bool
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"{name}={value}\n" if in_file else "", encoding="utf-8")
    environ = {"GIT_COMMIT": "c1", "GIT_BRANCH": "b", "MAIN_BRANCH": "main"} | ({} if in_file else {name: value})
    proof.count("values")
    try:
        Settings.from_env(environ, dotenv_path=dotenv)
    except SettingsError as error:
        assert str(error).startswith(name) and "\n" not in str(error)


@pytest.mark.parametrize("name", sorted(CARELESS))
def test_a_careless_setting_is_one_line_and_a_report(proof: Proof, tmp_path: Path, name: str) -> None:
    value, said = CARELESS[name]
    report = tmp_path / "report.xml"
    done = verify(tmp_path, environment(PACT_VERIFICATION_REPORT=str(report)) | {name: value})
    proof.count("values")
    assert done.returncode == 2
    (line,) = output(done).splitlines()
    assert line.startswith(f"verify: {name} ") and said in line
    assert said in report.read_text()


@pytest.mark.parametrize("trailing", ["\n", "\r\n", "\t"])
def test_a_broker_url_with_a_trailing_control_character_is_refused(tmp_path: Path, trailing: str) -> None:
    done = verify(tmp_path, environment(PACT_BROKER_BASE_URL=f"https://broker.example{trailing}"))
    assert done.returncode == 2
    (line,) = output(done).splitlines()
    assert line.startswith("verify: PACT_BROKER_BASE_URL has a control character") and line.endswith(
        "at its end: remove it"
    )


def test_a_dotenv_saved_as_utf16_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PACT_BROKER_TOKEN=abc\n", encoding="utf-16")
    done = verify(tmp_path, environment(), "--pact-dir", str(PACTS))
    assert done.returncode == 2
    assert output(done).splitlines() == ["verify: .env is not UTF-8 text: save it as UTF-8"]
    assert (tmp_path / "reports" / "pact-verification.xml").is_file()


# the report never harms what it names


def not_a_file(kind: str, place: Path) -> Path:
    """A report path that is no regular file of the pipeline's: a folder, a FIFO, a link, a name too long."""
    path = place / "report.xml"
    if kind == "folder":
        path.mkdir()
        (path / "kept.txt").write_text("kept")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link":
        (place / "elsewhere.txt").write_text("kept")
        path.symlink_to(place / "elsewhere.txt")
    else:
        path = place / ("x" * 5000)
    return path


@pytest.mark.parametrize("kind", ["folder", "fifo", "link", "too-long"])
def test_a_report_path_that_is_no_regular_file_is_refused_and_left_untouched(
    proof: Proof, tmp_path: Path, kind: str
) -> None:
    path = not_a_file(kind, tmp_path)
    before = sorted(str(item) for item in tmp_path.rglob("*")) if kind != "too-long" else []
    done = verify(tmp_path, environment(PACT_VERIFICATION_REPORT=str(path)), "--pact-dir", str(PACTS))
    proof.count("report paths")
    assert done.returncode == 2
    (line,) = output(done).splitlines()
    assert line.startswith("verify: the report path ")
    assert line.endswith(
        ": File name too long" if kind == "too-long" else "is not a regular file: it is left untouched"
    )
    assert before == (sorted(str(item) for item in tmp_path.rglob("*")) if kind != "too-long" else [])
    assert kind != "link" or (path.is_symlink() and (tmp_path / "elsewhere.txt").read_text() == "kept")
    assert kind != "folder" or (path / "kept.txt").read_text() == "kept"


def test_dev_null_means_no_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline tried to remove or replace a file")

    with monkeypatch.context() as guard:  # first without harm: the device is never removed or replaced
        guard.setattr(Path, "unlink", refuse)
        guard.setattr(os, "replace", refuse)
        discard(Path(os.devnull))
        write_verification(Path(os.devnull), ())
    done = verify(tmp_path, environment(PACT_VERIFICATION_REPORT=os.devnull), "--pact-dir", str(PACTS))
    assert done.returncode == 0, output(done)
    assert "report" not in output(done)
    assert Path(os.devnull).is_char_device()


def test_two_runs_writing_one_report_never_mix(proof: Proof, tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    (one / "a.json").write_bytes(
        (PACTS / "pactflow-example-consumer-pactflow-example-provider-python.json").read_bytes()
    )
    report = tmp_path / "reports" / "verification.xml"
    env = environment(PACT_VERIFICATION_REPORT=str(report))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "pipeline.verify", "--pact-dir", str(folder)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for folder in (PACTS, one, PACTS, one)
    ]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    proof.count("runs", len(runs))
    assert JUnitXml.fromfile(str(report)).tests in (12, 3)  # one run's report whole, whichever renamed last
    assert [path.name for path in report.parent.iterdir()] == ["verification.xml"]  # no temporary file left


@pytest.mark.parametrize("step", ["ci", "ci-webhook"])
def test_a_build_with_a_careless_setting_leaves_a_report_saying_so(tmp_path: Path, step: str) -> None:
    report = tmp_path / "report.xml"
    env = environment(PACT_VERIFICATION_REPORT=str(report), VERIFY_TIMEOUT="9\x1b[2J")
    done = pipeline(step, tmp_path, env)
    assert done.returncode == 2
    assert "VERIFY_TIMEOUT has a control character" in output(done) and "VERIFY_TIMEOUT" in report.read_text()
