"""Running the project's GitHub Actions workflows without GitHub: the `${{ }}` expressions they use,
evaluated for one event, and their steps' `make` targets run for real with the environment GitHub
would give them. Any expression form this module does not know is an error, never a guess."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from attrs import field, frozen

from tests.support.runs import ROOT, make

WORKFLOWS = ROOT / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
TOKEN = re.compile(
    r"\s*(?:(?P<status>!?(?:always|cancelled)\(\))|(?P<string>'(?:[^']|'')*')|(?P<operator>\|\||&&|==|!=)"
    r"|(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)|(?P<punctuation>[(),]))"
)
GITHUB_FIELDS = {"event", "event_name", "sha", "ref", "ref_name", "head_ref", "repository", "workflow"}
STATUS = re.compile(r"always\(\)|cancelled\(\)")
MAKE_STEP = re.compile(r"make (?P<target>[a-z_]+)")
Value = str | bool | None


class UnknownExpression(ValueError):
    """An expression, or a part of one, that the evaluator does not understand."""


@frozen
class Run:
    """One workflow run: the event that started it, and the repository's secrets and variables."""

    event_name: str
    event: dict[str, Any]
    ref: str
    sha: str
    secrets: dict[str, str] = field(factory=dict)
    vars: dict[str, str] = field(factory=dict)
    repository: str = "acme/provider"
    run_id: str = "4242"

    @property
    def ref_name(self) -> str:
        """The short name of the ref: a branch name, or `N/merge` for a pull request."""
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/pull/")

    @property
    def head_ref(self) -> str:
        """A pull request's head branch; empty for any other event."""
        return str(self.event.get("pull_request", {}).get("head", {}).get("ref", ""))

    def runner_environment(self) -> dict[str, str]:
        """The variables GitHub's runner sets for every step."""
        return {
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": self.event_name, "GITHUB_SHA": self.sha,
            "GITHUB_REF": self.ref, "GITHUB_REF_NAME": self.ref_name, "GITHUB_HEAD_REF": self.head_ref,
            "GITHUB_REPOSITORY": self.repository, "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": self.run_id,
        }  # fmt: skip


class Evaluator:
    """Evaluates the expression forms the workflows use: context paths, '...' strings, ==, !=, && and ||."""

    def __init__(self, run: Run, workflow: str) -> None:
        self.run = run
        self.workflow = workflow
        self.tokens: list[tuple[str, str]] = []

    def evaluate(self, text: str) -> Value:
        """The value of one expression."""
        self.tokens = tokenize(text)
        value = self._or()
        if self.tokens:
            raise UnknownExpression(f"cannot evaluate {text!r}: unexpected {self.tokens[0][1]!r}")
        return value

    def render(self, text: str) -> str:
        """A string with every `${{ }}` in it replaced by its value, as GitHub renders it."""
        return EXPRESSION.sub(lambda found: as_text(self.evaluate(found.group(1))), text)

    def condition(self, text: str) -> bool:
        """An `if:` condition, with or without `${{ }}`."""
        found = EXPRESSION.fullmatch(text.strip())
        return truthy(self.evaluate(found.group(1) if found else text))

    def _take(self, kind: str, text: str | None = None) -> str | None:
        if self.tokens and self.tokens[0][0] == kind and text in (None, self.tokens[0][1]):
            return self.tokens.pop(0)[1]
        return None

    def _or(self) -> Value:
        value = self._and()
        while self._take("operator", "||") is not None:
            other = self._and()
            value = value if truthy(value) else other
        return value

    def _and(self) -> Value:
        value = self._comparison()
        while self._take("operator", "&&") is not None:
            other = self._comparison()
            value = other if truthy(value) else value
        return value

    def _comparison(self) -> Value:
        value = self._operand()
        for operator in ("==", "!="):
            if self._take("operator", operator) is not None:
                same = as_text(value).casefold() == as_text(self._operand()).casefold()  # GitHub ignores case
                return same if operator == "==" else not same
        return value

    def _operand(self) -> Value:
        if (status := self._take("status")) is not None:
            return status in ("always()", "!cancelled()")  # a simulated run is never cancelled
        if (string := self._take("string")) is not None:
            return string[1:-1].replace("''", "'")
        if (path := self._take("path")) is not None:
            return self._hash_files() if path == "hashFiles" and self._take("punctuation", "(") else self._lookup(path)
        raise UnknownExpression(f"expected a value, found {self.tokens[0][1] if self.tokens else 'the end'!r}")

    def _hash_files(self) -> str:
        """hashFiles('a', 'b'): GitHub's SHA-256 over the SHA-256 of each file named, in the repository."""
        names = [as_text(self._operand())]
        while self._take("punctuation", ","):
            names.append(as_text(self._operand()))
        if self._take("punctuation", ")") is None:
            raise UnknownExpression("hashFiles( is not closed")
        files = sorted(path for name in names for path in ROOT.glob(name) if path.is_file())
        digest = hashlib.sha256()
        for path in files:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest() if files else ""

    def _lookup(self, path: str) -> Value:
        context, _, rest = path.partition(".")
        if path == "runner.os":
            return "Linux"
        if context == "secrets" and rest:
            return self.run.secrets.get(rest)
        if context == "vars" and rest:
            return self.run.vars.get(rest)
        if context == "inputs" and rest:
            return self._dig(self.run.event.get("inputs", {}), rest)
        if context == "github" and rest.split(".")[0] in GITHUB_FIELDS:
            name, _, inner = rest.partition(".")
            if name == "event":
                if not inner:
                    raise UnknownExpression(f"github.event is an object, not a value: {path!r}")
                return self._dig(self.run.event, inner)
            if inner:
                raise UnknownExpression(f"github.{name} has no properties: {path!r}")
            return self.workflow if name == "workflow" else str(getattr(self.run, name))
        raise UnknownExpression(f"unknown context or property: {path!r}")

    @staticmethod
    def _dig(data: Any, path: str) -> Value:
        for key in path.split("."):
            data = data.get(key) if isinstance(data, dict) else None
        if data is not None and not isinstance(data, (str, bool)):
            raise UnknownExpression(f"{path!r} is an object, not a value")
        return data


def tokenize(text: str) -> list[tuple[str, str]]:
    """The tokens of an expression; anything outside the known forms is refused."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        found = TOKEN.match(text, position)
        if found is None or found.lastgroup is None:
            raise UnknownExpression(f"cannot evaluate {text!r}: unknown form at {text[position:].strip()!r}")
        tokens.append((found.lastgroup, found.group(found.lastgroup)))
        position = found.end()
    return tokens


def truthy(value: Value) -> bool:
    """GitHub's truthiness for the values these expressions produce."""
    return value not in (None, "", False)


def as_text(value: Value) -> str:
    """A value as GitHub writes it into a string: null is empty, booleans are lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def load(name: str) -> dict[str, Any]:
    """A workflow file as YAML data (the `on` key stays a string)."""
    return yaml.load((WORKFLOWS / name).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # every scalar a string


def rendered(data: Any, evaluator: Evaluator) -> Any:
    """The workflow with every `${{ }}` evaluated; an expression it cannot evaluate raises."""
    if isinstance(data, dict):
        return {key: rendered(value, evaluator) for key, value in data.items()}
    if isinstance(data, list):
        return [rendered(value, evaluator) for value in data]
    return evaluator.render(data) if isinstance(data, str) else data


@frozen
class Step:
    """A step of a job as it would run: an action with its inputs, or a make target with its environment."""

    job: str
    uses: str | None
    inputs: dict[str, str]
    target: str | None
    env: dict[str, str]
    after_failure: bool = False  # its `if:` runs it also when an earlier step failed


def uploaded(step: Step, cwd: Path) -> list[str]:
    """The files an actions/upload-artifact step would upload from `cwd`: those under its `path`."""
    folder = cwd / step.inputs["path"]
    return sorted(str(path.relative_to(cwd)) for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []


def plan(name: str, run: Run) -> list[Step]:
    """The steps GitHub would run for this event, in order, with every expression evaluated."""
    workflow = load(name)
    evaluator = Evaluator(run, workflow.get("name", name))
    rendered(workflow, evaluator)  # every expression must be understood, used for this event or not
    if not triggered(workflow, run):
        return []
    steps: list[Step] = []
    skipped: set[str] = set()
    for job_name, job in ordered_jobs(workflow["jobs"]):
        wanted = "if" not in job or evaluator.condition(job["if"])
        if skipped & set(needs(job)) or not wanted:
            skipped.add(job_name)  # and so are the jobs that need it
            continue
        for step in job["steps"]:
            if "if" in step and not evaluator.condition(step["if"]):
                continue
            env = rendered({**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}, evaluator)
            if "uses" in step:
                after_failure = bool(STATUS.search(step.get("if", "")))
                steps.append(
                    Step(job_name, step["uses"], rendered(step.get("with", {}), evaluator), None, env, after_failure)
                )
                continue
            found = MAKE_STEP.fullmatch(step["run"].strip())
            if found is None:
                raise UnknownExpression(f"a step of {job_name} runs {step['run']!r}, not one make target")
            steps.append(Step(job_name, None, {}, found["target"], env))
    return steps


def triggered(workflow: Mapping[str, Any], run: Run) -> bool:
    """Whether the event starts the workflow (for repository_dispatch: one of its types)."""
    events = workflow["on"]
    if isinstance(events, str):
        return run.event_name == events
    if run.event_name not in events:
        return False
    types = (events[run.event_name] or {}) if isinstance(events, dict) else {}
    return "types" not in types or run.event.get("action") in types["types"]


def ordered_jobs(jobs: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Jobs in an order that respects `needs:`."""
    done: set[str] = set()
    while len(done) < len(jobs):
        ready = [name for name, job in jobs.items() if name not in done and set(needs(job)) <= done]
        if not ready:
            raise UnknownExpression(f"the jobs' needs form a cycle or name an unknown job: {sorted(set(jobs) - done)}")
        for name in ready:
            done.add(name)
            yield name, jobs[name]


def needs(job: Mapping[str, Any]) -> list[str]:
    """The jobs a job waits for."""
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def run_steps(
    steps: list[Step], run: Run, cwd: Path, base: dict[str, str]
) -> list[tuple[Step, subprocess.CompletedProcess[str]]]:
    """Run each make step as GitHub would: the runner's variables, then the step's env, over `base`.
    `make ci` runs with its test-suite prerequisite taken as done (`-o test`): a test cannot run the suite."""
    done = []
    for step in steps:
        if step.target is None:
            continue
        env = base | run.runner_environment() | step.env
        result = make(step.target, cwd, env, *(["-o", "test"] if step.target == "ci" else []))
        done.append((step, result))
        if result.returncode != 0:
            break  # a failed step fails its job, and the jobs that need it do not run
    return done
