from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from attrs import Factory, evolve, field, fields, frozen
from dotenv import dotenv_values

from pipeline.redact import printable

TRUE_WORDS = {"1", "true", "yes", "on"}
GITHUB_PULL_REQUEST_EVENTS = {"pull_request", "pull_request_target"}
SOURCE = "source"  # the key of a field's Source in its attrs metadata
CONTRACT_EXAMPLES = 20  # generated requests per operation in the provider contract's self-verification


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use."""


@frozen
class Rule:
    """A setting worked out from other variables (given in order, None when unset) or from git."""

    reads: tuple[str, ...]
    answer: Callable[..., Any]


def reads(*variables: str) -> Callable[[Callable[..., Any]], Rule]:
    """Declare a function as a rule over these variables."""
    return lambda answer: Rule(variables, answer)


@frozen
class Source:
    """Where a setting comes from: the first of its variables that is set (parsed), else the first rule
    with an answer, else the field's default."""

    sources: tuple[str | Rule, ...]
    parse: Callable[[str], Any]

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable this setting reads, its rules' included."""
        names = [source.reads if isinstance(source, Rule) else (source,) for source in self.sources]
        return tuple(name for group in names for name in group)

    def read(self, env: Mapping[str, str]) -> Any:
        """The setting's value in this environment, or None for its default."""
        for source in self.sources:
            if isinstance(source, Rule):
                answer = source.answer(*(env.get(name) for name in source.reads))
                if answer is not None:
                    return answer
            elif source in env:
                try:
                    return self.parse(env[source])
                except ValueError as error:
                    raise SettingsError(f"{source} {error}") from None
        return None


def setting(*sources: str | Rule, default: Any = None, parse: Callable[[str], Any] = str, secret: bool = False) -> Any:
    """A settings field read from these variables and rules, in order; a secret stays out of its repr."""
    return field(default=default, repr=not secret, metadata={SOURCE: Source(sources, parse)})


def flag(text: str) -> bool:
    """A yes/no variable: true, yes, on or 1 (in any case) is yes."""
    return text.lower() in TRUE_WORDS


def count(least: int = 0) -> Callable[[str], int]:
    """A parser of whole numbers of `least` or more."""

    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < least:
            raise ValueError(f"must be a whole number of {least} or more, got {printable(text)!r}")
        return int(text)

    return parse


def _git(*args: str) -> str | None:
    """A line of git's answer, or None outside a checkout."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    answer = done.stdout.strip()
    return answer if done.returncode == 0 and answer else None


@reads()
def git_commit() -> str | None:
    """The checked-out commit."""
    return _git("rev-parse", "HEAD")


@reads()
def git_branch() -> str | None:
    """The checked-out branch, or None on a detached commit (git answers `HEAD` there)."""
    branch = _git("rev-parse", "--abbrev-ref", "HEAD")
    return None if branch == "HEAD" else branch


@reads()
def origin_head() -> str | None:
    """The branch git knows as origin/HEAD: the remote's default branch."""
    remote_head = _git("symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    return remote_head.removeprefix("origin/") if remote_head else None


@reads("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GIT_COMMIT")
def github_branch(head_ref: str | None, ref_name: str | None, commit: str | None) -> str | None:
    """GitHub's branch (a pull request's head branch, else the pushed one), only for GitHub's own
    commit: a build of another commit (a webhook build) has only the branch it is given."""
    return None if commit else head_ref or ref_name


@reads("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
def github_run_url(server: str | None, repository: str | None, run_id: str | None) -> str | None:
    """The web page of this GitHub Actions run, when the build runs there."""
    return f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None


@reads("TRAVIS_PULL_REQUEST", "GITHUB_EVENT_NAME")
def pull_request_build(travis_pull_request: str | None, github_event: str | None) -> bool:
    """Whether Travis or GitHub Actions builds a pull request."""
    return travis_pull_request not in (None, "false") or github_event in GITHUB_PULL_REQUEST_EVENTS


def _cores() -> int:
    return os.cpu_count() or 1


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> dict[str, str]:
    """The environment over the values of a `.env` file, taken as written (no `${VAR}` expansion):
    a variable already set wins."""
    values = dotenv_values(dotenv_path, interpolate=False)
    from_file = {key: value for key, value in values.items() if value is not None}
    return {**from_file, **(os.environ if environ is None else environ)}


@frozen
class Settings:
    """Every value the service's pipeline reads from the environment or `.env`, read once."""

    provider_name: str = setting("PACT_PROVIDER_NAME", default="pactflow-example-provider-python")
    broker_url: str | None = setting("PACT_BROKER_BASE_URL")
    broker_token: str | None = setting("PACT_BROKER_TOKEN", secret=True)
    broker_username: str | None = setting("PACT_BROKER_USERNAME")
    broker_password: str | None = setting("PACT_BROKER_PASSWORD", secret=True)
    publish_results: bool = setting("PACT_BROKER_PUBLISH_VERIFICATION_RESULTS", default=False, parse=flag)
    publish_provider_contract: bool = setting("PACT_PUBLISH_PROVIDER_CONTRACT", default=True, parse=flag)
    provider_contract_examples: int = setting(
        "PACT_PROVIDER_CONTRACT_EXAMPLES", default=CONTRACT_EXAMPLES, parse=count(least=1)
    )
    provider_version: str | None = setting("GIT_COMMIT", "TRAVIS_COMMIT", "GITHUB_SHA", git_commit)
    provider_branch: str | None = setting("GIT_BRANCH", "TRAVIS_BRANCH", github_branch, git_branch)
    build_url: str | None = setting("TRAVIS_BUILD_WEB_URL", "BUILD_URL", github_run_url)
    pact_url: str | None = setting("PACT_URL")
    pact_dir: Path = setting("PACT_DIR", default=Path("pacts"), parse=Path)
    environment: str = setting("DEPLOY_ENVIRONMENT", default="production")
    main_branch: str = setting("MAIN_BRANCH", origin_head, default="main")
    include_wip_since: str = setting("PACT_INCLUDE_WIP_SINCE", default="2020-01-01")
    pull_request: bool = setting(pull_request_build, default=False)
    verify_timeout: int = setting("VERIFY_TIMEOUT", default=900, parse=count(least=1))
    broker_retries: int = setting("PACT_BROKER_HTTP_RETRIES", default=3, parse=count())
    jobs: int = setting("JOBS", default=Factory(_cores), parse=count(least=1))
    can_i_deploy_retries: int = setting("CAN_I_DEPLOY_RETRIES", default=10, parse=count())
    can_i_deploy_interval: int = setting("CAN_I_DEPLOY_RETRY_INTERVAL", default=10, parse=count())
    travis_token: str | None = setting("TRAVIS_TOKEN", secret=True)
    travis_repo: str = setting("TRAVIS_REPO_SLUG", default="pactflow/example-provider-python")
    webhook_uuid: str = setting("PACT_WEBHOOK_UUID", default="9f4dbd35-0ac4-4d3c-8b4e-5f1e7a2c6b10")
    github_token: str | None = setting("GITHUB_TOKEN", secret=True)
    github_repository: str | None = setting("GITHUB_REPOSITORY")
    github_webhook_uuid: str = setting("PACT_GITHUB_WEBHOOK_UUID", default="3c1f0a52-7d4e-4b8a-9e26-0b5d8c4f7a31")
    separate_deploy_job: bool = setting("SEPARATE_DEPLOY_JOB", default=False, parse=flag)
    report_path: Path = setting("PACT_VERIFICATION_REPORT", default=Path("reports/pact-verification.xml"), parse=Path)
    github_actions: bool = setting("GITHUB_ACTIONS", default=False, parse=flag)
    step_summary: Path | None = setting("GITHUB_STEP_SUMMARY", parse=Path)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> Settings:
        """Read the settings from the environment, falling back to `.env`, then to git."""
        env = {key: value for key, value in read_environment(environ, dotenv_path).items() if value != ""}
        found = {attribute.name: attribute.metadata[SOURCE].read(env) for attribute in fields(cls)}
        return cls(**{name: value for name, value in found.items() if value is not None}).with_url_credentials()

    def with_url_credentials(self) -> Settings:
        """The broker URL without user information, its user name and password taken as HTTP basic
        credentials; refused when separate credentials are set too."""
        parts = urlsplit(self.broker_url or "")
        if "@" not in parts.netloc:
            return self
        if self.broker_token or self.broker_username or self.broker_password:
            raise SettingsError(
                "PACT_BROKER_BASE_URL has a user name and password in it: give them either there or as "
                "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD, and with them no PACT_BROKER_TOKEN"
            )
        user_info, _, host = parts.netloc.rpartition("@")
        name, _, secret = user_info.partition(":")
        url = urlunsplit(parts._replace(netloc=host))
        return evolve(self, broker_url=url, broker_username=unquote(name), broker_password=unquote(secret))

    @property
    def has_broker(self) -> bool:
        """Whether a broker is configured at all."""
        return self.broker_url is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credential values, so output can be scrubbed of them (a password inside PACT_URL too)."""
        values = (self.broker_token, self.broker_password, self.travis_token, self.github_token)
        return tuple(value for value in (*values, _url_password(self.pact_url)) if value)

    def as_environment(self, *names: str) -> dict[str, str]:
        """These settings under their first variable's name, as another program reads them; unset ones left out."""
        sources = {attribute.name: attribute.metadata[SOURCE].variables[0] for attribute in fields(Settings)}
        return {sources[name]: str(getattr(self, name)) for name in names if getattr(self, name)}

    def scrub(self, text: str) -> str:
        """The text with every credential replaced by asterisks."""
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text


def one_setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting read alone, its default when unset or unusable: for when the others cannot be read."""
    attribute = getattr(fields(Settings), name)
    env = {key: value for key, value in read_environment(environ).items() if value != ""}
    try:
        value = attribute.metadata[SOURCE].read(env)
    except SettingsError:
        value = None
    return attribute.default if value is None else value


def _url_password(url: str | None) -> str | None:
    """The password inside a URL's user information, if any."""
    user_info, at, _ = urlsplit(url or "").netloc.rpartition("@")
    return (unquote(user_info.partition(":")[2]) or None) if at else None


# Every variable the settings read, fallbacks included: what a test clears to start clean.
VARIABLES = frozenset(name for attribute in fields(Settings) for name in attribute.metadata[SOURCE].variables)
