"""The GitHub Actions workflows: linted by actionlint, zizmor and the workflow schema, and run from
an event to a build: their expressions evaluated, their make targets run against the broker double."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from junitparser import JUnitXml

from pipeline.settings import Settings
from tests.support.broker import BrokerDouble
from tests.support.runs import PROVIDER, ROOT, TOKEN, consumer_pact, environment, failure, output, project_pact
from tests.support.workflows import WORKFLOWS, Evaluator, Run, Step, UnknownExpression, load, plan, run_steps, uploaded

BUILD = "build.yml"
WEBHOOK = "contract_requiring_verification_published.yml"
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
MAIN_SHA = "a" * 40
HEAD_SHA = "b" * 40
MERGE_SHA = "c" * 40
DISPATCHED_SHA = "d" * 40


def tool(name: str) -> str:
    """A lint tool installed beside this Python by the `test` extra; missing is a failure, not a skip."""
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} is not installed: run `make install`"
    return str(path)


def lint(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return lint([tool("actionlint"), "-no-color", *map(str, paths)])


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return lint([tool("zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)])


def schema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return lint(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    )


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def test_both_workflows_exist() -> None:
    assert [path.name for path in workflow_files()] == [BUILD, WEBHOOK]


@pytest.mark.parametrize("check", [actionlint, zizmor, schema], ids=["actionlint", "zizmor", "schema"])
def test_the_workflows_pass_the_linters(check: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    done = check(*workflow_files())
    assert done.returncode == 0, done.stdout + done.stderr


UNSAFE = """\
name: unsafe
on: repository_dispatch
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: echo "${{ github.event.client_payload.branch }}"
"""


def test_the_linters_catch_an_unsafe_workflow(tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(UNSAFE)
    found = zizmor(unsafe)
    assert found.returncode != 0
    assert "template-injection" in found.stdout and "unpinned-uses" in found.stdout and "artipacked" in found.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(
        UNSAFE.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    if: ${{ github.event.nope( }}")
    )
    assert actionlint(broken).returncode != 0
    invalid = tmp_path / "invalid.yml"
    invalid.write_text(UNSAFE.replace("steps:", "stages:"))
    assert schema(invalid).returncode != 0


@pytest.mark.parametrize("name", [BUILD, WEBHOOK])
def test_safe_by_construction(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    uses = [line for line in text.splitlines() if "uses:" in line]
    assert uses and all(PINNED.match(line) for line in uses), uses
    workflow = load(name)
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert job["permissions"] == {"contents": "read"}
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] == "false"
            assert "${{" not in step.get("run", "")  # event data reaches a shell only through env:


def test_pinned_actions_are_current_majors() -> None:
    text = "".join(path.read_text() for path in workflow_files())
    versions = set(re.findall(r"uses: (actions/[\w-]+)@[0-9a-f]{40} # v(\d+)", text))
    assert versions == {
        ("actions/checkout", "7"),
        ("actions/setup-python", "7"),
        ("actions/cache", "5"),
        ("actions/upload-artifact", "7"),
    }  # node24 releases


@pytest.mark.parametrize("name", [BUILD, WEBHOOK])
def test_each_job_caches_uvs_downloads_keyed_on_the_lock(name: str) -> None:
    lock = hashlib.sha256(hashlib.sha256((ROOT / "uv.lock").read_bytes()).digest()).hexdigest()
    run = Run("workflow_dispatch", {"inputs": {"pact_url": "https://broker.example/pact"}}, "refs/heads/main", MAIN_SHA)
    caches = [step.inputs for step in plan(name, run) if step.uses and step.uses.startswith("actions/cache@")]
    assert caches and all(
        cache == {"path": "~/.cache/uv", "key": f"uv-Linux-{lock}", "restore-keys": "uv-Linux-"} for cache in caches
    )


# -- the expression evaluator can only pass what it understands ---------------------------------


def evaluator(**event: object) -> Evaluator:
    run = Run("repository_dispatch", dict(event), "refs/heads/master", MAIN_SHA, secrets={"T": "s"}, vars={"U": "v"})
    return Evaluator(run, "wf")


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.event.client_payload.sha || github.sha", "x"),
        ("github.event.client_payload.branch || 'none'", "none"),
        ("secrets.T", "s"),
        ("vars.U", "v"),
        ("vars.MISSING", None),
        ("github.event_name == 'REPOSITORY_DISPATCH'", True),
        ("github.event_name != 'push' && github.ref_name == 'master'", True),
        ("github.event_name == 'push' && github.ref_name", False),
        ("'it''s'", "it's"),
    ],
)
def test_the_evaluator_knows_the_forms_the_workflows_use(expression: str, value: object) -> None:
    assert evaluator(client_payload={"sha": "x"}).evaluate(expression) == value


@pytest.mark.parametrize(
    "expression",
    [
        "toJSON(github.event)",
        "github.event.client_payload.sha && !github.sha",
        "(github.sha)",
        "github.token",
        "env.GIT_COMMIT",
        "github.sha.more",
        "github.event.client_payload",
        "github.event",
        "github.sha 'x'",
        "1 == 1",
    ],
)
def test_the_evaluator_refuses_what_it_does_not_know(expression: str) -> None:
    with pytest.raises(UnknownExpression):
        evaluator(client_payload={"sha": "x"}).evaluate(expression)


def test_a_workflow_with_an_unknown_expression_cannot_pass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = (WORKFLOWS / WEBHOOK).read_text().replace("${{ vars.PACT_BROKER_BASE_URL }}", "${{ fromJSON(vars.X) }}")
    (tmp_path / WEBHOOK).write_text(text)
    monkeypatch.setattr("tests.support.workflows.WORKFLOWS", tmp_path)
    with pytest.raises(UnknownExpression, match="fromJSON"):
        plan(WEBHOOK, dispatch_run("https://broker.example/pact", "main"))


# -- from an event to a build ---------------------------------------------------------------------


@pytest.fixture
def broker() -> Iterator[BrokerDouble]:
    with BrokerDouble(token=TOKEN) as double:
        double.add_pact(project_pact("pactflow-example-consumer"), consumer_version="web-1", branch="main")
        yield double


def repository_run(broker: BrokerDouble, event_name: str, event: dict[str, object], ref: str, sha: str) -> Run:
    event = {"repository": {"default_branch": "master"}, **event}
    return Run(
        event_name,
        event,
        ref,
        sha,
        secrets={"PACT_BROKER_TOKEN": TOKEN},
        vars={"PACT_BROKER_BASE_URL": broker.base_url},
    )


def dispatch_run(pact_url: str, branch: str, broker: BrokerDouble | None = None) -> Run:
    payload = {"pact_url": pact_url, "sha": DISPATCHED_SHA, "branch": branch, "message": "Verify the pact"}
    event = {"action": "contract_requiring_verification_published", "client_payload": payload}
    base_url = {"PACT_BROKER_BASE_URL": broker.base_url} if broker else {}
    return Run(
        "repository_dispatch", event, "refs/heads/master", MAIN_SHA, secrets={"PACT_BROKER_TOKEN": TOKEN}, vars=base_url
    )


def make_steps(steps: list[Step]) -> list[tuple[str, str | None]]:
    return [(step.job, step.target) for step in steps if step.target]


def text_of(results: list[tuple[Step, subprocess.CompletedProcess[str]]]) -> str:
    assert all(done.returncode == 0 for _, done in results), [output(done) for _, done in results]
    return "".join(output(done) for _, done in results)


def test_a_push_to_the_main_line_verifies_publishes_and_deploys_in_its_own_job(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    run = repository_run(broker, "push", {"head_commit": {"id": MAIN_SHA}}, "refs/heads/master", MAIN_SHA)
    steps = plan(BUILD, run)
    assert make_steps(steps) == [("ci", "ci"), ("deploy", "deploy")]
    assert not any(step.inputs.get("ref") for step in steps if step.uses)  # the pushed commit
    summary = tmp_path / "summary.md"
    text = text_of(run_steps(steps, run, tmp_path, environment(GITHUB_STEP_SUMMARY=str(summary))))
    (result,) = broker.verification_results
    assert (result["provider_version"], result["branch"], result["success"]) == (MAIN_SHA, "master", True)
    assert result["buildUrl"] == "https://github.com/acme/provider/actions/runs/4242"
    assert f"[can-i-deploy] {PROVIDER} {MAIN_SHA} to production: yes." in text
    assert "[deploy] skipped: a job of its own deploys (SEPARATE_DEPLOY_JOB is true)" in text
    usage = re.search(r"<details><summary>Who uses the API</summary>.*?</details>\n\n", summary.read_text(), re.S)
    assert usage is not None and "- **Product.name**: pactflow-example-consumer" in usage[0]
    lines = summary.read_text().replace(usage[0], "").splitlines()
    assert (
        lines[4] == "| pactflow-example-consumer | Pact of pactflow-example-consumer web-1 | 3 | 0 |" and lines[5] == ""
    )
    steps_of_ci = ["provider-contract", "can-i-deploy", "deploy"]  # then the deploy job's: it asks again
    assert [line.split("\\:")[0] for line in lines[6:]] == [
        f"- {name}" for name in [*steps_of_ci, "can-i-deploy", "deploy", "record-deployment"]
    ]
    assert lines[7].endswith(
        f"{MAIN_SHA} to production\\: yes. All required verification results are published and successful"
    )
    (upload,) = [step for step in steps if step.uses and step.uses.startswith("actions/upload-artifact@")]
    assert uploaded(upload, tmp_path) == ["reports/pact-verification.xml"]
    assert [(d["version"], d["environment"]) for d in broker.deployments] == [(MAIN_SHA, "production")]


@pytest.mark.parametrize("name", [BUILD, WEBHOOK])
def test_a_failed_build_still_uploads_its_report(broker: BrokerDouble, tmp_path: Path, name: str) -> None:
    url = broker.add_pact(consumer_pact("breaking", ("7", "Seven"), status=201), consumer_version="b-1", branch="main")
    push = repository_run(broker, "push", {}, "refs/heads/feat/x", HEAD_SHA)
    run = push if name == BUILD else dispatch_run(pact_version_url(broker, url), "feat/x", broker)
    steps = plan(name, run)
    ((_, done),) = run_steps(steps, run, tmp_path, environment())
    assert done.returncode != 0
    assert failure(done).endswith(": 1 interaction(s) failed)")  # the verdict, not the annotation after it
    (upload,) = [step for step in steps if step.uses and step.uses.startswith("actions/upload-artifact@")]
    assert upload.after_failure and upload.inputs["retention-days"] == "7"
    assert uploaded(upload, tmp_path) == ["reports/pact-verification.xml"]
    report = JUnitXml.fromfile(str(tmp_path / "reports" / "pact-verification.xml"))
    assert (report.tests, report.failures) == ((4, 1) if name == BUILD else (1, 1))


def test_a_push_to_another_branch_publishes_and_does_not_deploy(broker: BrokerDouble) -> None:
    run = repository_run(broker, "push", {}, "refs/heads/feat/x", HEAD_SHA)
    steps = plan(BUILD, run)
    assert make_steps(steps) == [("ci", "ci")]
    (step,) = [step for step in steps if step.target]
    assert step.env["PACT_BROKER_PUBLISH_VERIFICATION_RESULTS"] == "true"
    assert (step.env["GIT_COMMIT"], step.env["GIT_BRANCH"]) == (HEAD_SHA, "feat/x")


def test_a_pull_request_verifies_its_head_and_skips_can_i_deploy_and_deploy(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    pull_request = {"number": 7, "head": {"sha": HEAD_SHA, "ref": "feat/x"}}
    run = repository_run(broker, "pull_request", {"pull_request": pull_request}, "refs/pull/7/merge", MERGE_SHA)
    steps = plan(BUILD, run)
    assert make_steps(steps) == [("ci", "ci")]
    (step,) = [step for step in steps if step.target]
    assert (step.env["GIT_COMMIT"], step.env["GIT_BRANCH"]) == (HEAD_SHA, "feat/x")
    text = text_of(run_steps(steps, run, tmp_path, environment()))
    assert "verification passed" in text and "results are not published" in text
    assert broker.for_verification_requests[-1]["providerVersionBranch"] == "feat/x"
    assert broker.verification_results == [] and broker.deployments == []
    assert not any(request.path == "/matrix" for request in broker.requests)
    assert "[can-i-deploy] skipped: a pull-request build publishes no results" in text
    assert "[deploy] skipped: this is a pull-request build" in text


def pact_version_url(broker: BrokerDouble, permalink: str) -> str:
    """The URL the broker sends as ${pactbroker.pactUrl}: the pact version, with its metadata."""
    document = httpx.get(permalink, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    return str(document["_links"]["pb:publish-verification-results"]["href"]).removesuffix("/verification-results")


def test_a_dispatch_verifies_the_dispatched_commit_and_runs_no_can_i_deploy(
    broker: BrokerDouble, tmp_path: Path
) -> None:
    url = pact_version_url(
        broker, broker.add_pact(project_pact("pactflow-example-consumer-python"), consumer_version="py-9")
    )
    run = dispatch_run(url, "feat/provider", broker)
    steps = plan(WEBHOOK, run)
    assert make_steps(steps) == [("verify", "ci_webhook")]
    (checkout,) = [step for step in steps if step.uses and step.uses.startswith("actions/checkout@")]
    assert checkout.inputs["ref"] == DISPATCHED_SHA
    text = text_of(run_steps(steps, run, tmp_path, environment()))
    (result,) = broker.verification_results
    assert (result["consumer"], result["provider_version"], result["success"]) == (
        "pactflow-example-consumer-python",
        DISPATCHED_SHA,
        True,
    )
    assert result["branch"] == "feat/provider"
    assert "can-i-deploy and deploy are not run in a webhook build" in text
    assert not any(request.path == "/matrix" for request in broker.requests) and broker.deployments == []


def test_a_dispatched_commit_without_a_branch_is_published_without_one() -> None:
    run = dispatch_run("https://broker.example/pacts/1", "")
    (verify,) = [step for step in plan(WEBHOOK, run) if step.target]
    settings = Settings.from_env(run.runner_environment() | verify.env)
    # never the branch the workflow ran on (GITHUB_REF_NAME), which does not hold that commit
    assert (settings.provider_version, settings.provider_branch) == (DISPATCHED_SHA, None)


def test_a_dispatch_to_a_pact_elsewhere_sends_no_credentials(broker: BrokerDouble, tmp_path: Path) -> None:
    with BrokerDouble(token=None) as elsewhere:
        run = dispatch_run(f"{elsewhere.base_url}/pacts/provider/{PROVIDER}/consumer/c/version/1", "main", broker)
        ((_, done),) = run_steps(plan(WEBHOOK, run), run, tmp_path, environment())
        assert done.returncode != 0
        assert f"PACT_URL must be a pact on the broker {broker.base_url}: its credentials go only there" in output(done)
        assert elsewhere.requests == [] and broker.verification_results == []


def test_each_workflow_starts_only_on_its_events(broker: BrokerDouble) -> None:
    push = repository_run(broker, "push", {}, "refs/heads/master", MAIN_SHA)
    assert plan(WEBHOOK, push) == []
    other = Run(
        "repository_dispatch", {"action": "something_else", "client_payload": {}}, "refs/heads/master", MAIN_SHA
    )
    assert plan(WEBHOOK, other) == [] and plan(BUILD, other) == []
    assert plan(BUILD, Run("workflow_dispatch", {"repository": {"default_branch": "master"}}, "refs/heads/x", MAIN_SHA))


def test_run_by_hand_the_webhook_build_verifies_the_commit_and_branch_it_runs_on() -> None:
    event = {"inputs": {"pact_url": "https://broker.example/pacts/1", "sha": "", "branch": ""}}
    run = Run("workflow_dispatch", event, "refs/heads/release", MAIN_SHA, secrets={"PACT_BROKER_TOKEN": TOKEN})
    (verify,) = [step for step in plan(WEBHOOK, run) if step.target]
    settings = Settings.from_env(run.runner_environment() | verify.env)
    assert (settings.pact_url, settings.provider_version, settings.provider_branch) == (
        "https://broker.example/pacts/1",
        MAIN_SHA,
        "release",
    )
    given = Run("workflow_dispatch", {"inputs": event["inputs"] | {"sha": HEAD_SHA}}, "refs/heads/release", MAIN_SHA)
    (verify,) = [step for step in plan(WEBHOOK, given) if step.target]
    settings = Settings.from_env(given.runner_environment() | verify.env)
    assert (settings.provider_version, settings.provider_branch) == (HEAD_SHA, None)


# -- settings fall back to GitHub's own variables -----------------------------------------------


GITHUB_PUSH = {
    "GITHUB_SHA": MAIN_SHA,
    "GITHUB_REF_NAME": "master",
    "GITHUB_HEAD_REF": "",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/provider",
    "GITHUB_RUN_ID": "99",
}


def test_settings_fall_back_to_githubs_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(GITHUB_PUSH, tmp_path / ".env")
    assert (settings.provider_version, settings.provider_branch) == (MAIN_SHA, "master")
    assert settings.build_url == "https://github.com/acme/provider/actions/runs/99"
    assert not settings.pull_request
    explicit = Settings.from_env(
        GITHUB_PUSH | {"GIT_COMMIT": "v1", "GIT_BRANCH": "b1", "BUILD_URL": "u"}, tmp_path / ".env"
    )
    assert (explicit.provider_version, explicit.provider_branch, explicit.build_url) == ("v1", "b1", "u")


@pytest.mark.parametrize("event_name", ["pull_request", "pull_request_target"])
def test_settings_know_a_github_pull_request(event_name: str, tmp_path: Path) -> None:
    env = GITHUB_PUSH | {"GITHUB_EVENT_NAME": event_name, "GITHUB_HEAD_REF": "feat/x", "GITHUB_REF_NAME": "7/merge"}
    settings = Settings.from_env(env, tmp_path / ".env")
    assert settings.pull_request and settings.provider_branch == "feat/x"
