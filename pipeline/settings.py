from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from attrs import field, frozen
from dotenv import dotenv_values

from pipeline.redact import printable

DEFAULT_PROVIDER_NAME = "pactflow-example-provider-python"
TRUE_WORDS = {"1", "true", "yes", "on"}
TRAVIS_WEBHOOK_UUID = "9f4dbd35-0ac4-4d3c-8b4e-5f1e7a2c6b10"
GITHUB_WEBHOOK_UUID = "3c1f0a52-7d4e-4b8a-9e26-0b5d8c4f7a31"
GITHUB_PULL_REQUEST_EVENTS = {"pull_request", "pull_request_target"}


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use."""


def _git(*args: str) -> str | None:
    """A line of git's answer, or None outside a checkout."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    answer = done.stdout.strip()
    return answer if done.returncode == 0 and answer else None


def _count(env: Mapping[str, str], name: str, default: int, least: int = 0) -> int:
    """A whole number of `least` or more from the environment."""
    text = env.get(name, str(default))
    if not text.isdigit() or int(text) < least:
        raise SettingsError(f"{name} must be a whole number of {least} or more, got {printable(text)!r}")
    return int(text)


def _main_branch(env: Mapping[str, str]) -> str:
    """MAIN_BRANCH, else the branch git knows as origin/HEAD, else `main`."""
    if env.get("MAIN_BRANCH"):
        return env["MAIN_BRANCH"]
    remote_head = _git("symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    return remote_head.removeprefix("origin/") if remote_head else "main"


def _broker_login(env: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """The broker URL without user information, and the user name and password: taken from the URL
    when it has them (refused when separate credentials are set too), else from their variables."""
    url, username, password = env.get("PACT_BROKER_BASE_URL"), env.get("PACT_BROKER_USERNAME"), env.get("PACT_BROKER_PASSWORD")
    parts = urlsplit(url or "")
    if url is None or "@" not in parts.netloc:
        return url, username, password
    if any(env.get(name) for name in ("PACT_BROKER_TOKEN", "PACT_BROKER_USERNAME", "PACT_BROKER_PASSWORD")):
        raise SettingsError(
            "PACT_BROKER_BASE_URL has a user name and password in it: give them either there or as "
            "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD, and with them no PACT_BROKER_TOKEN"
        )
    user_info, _, host = parts.netloc.rpartition("@")
    name, _, secret = user_info.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(name), unquote(secret)


def _url_password(url: str | None) -> str | None:
    """The password inside a URL's user information, if any."""
    user_info, at, _ = urlsplit(url or "").netloc.rpartition("@")
    return (unquote(user_info.partition(":")[2]) or None) if at else None


def _github_branch(env: Mapping[str, str]) -> str | None:
    """GitHub's branch (a pull request's head branch, else the pushed one), only for GitHub's own
    commit: a build of another commit (a webhook build) has only the branch it is given."""
    if env.get("GIT_COMMIT"):
        return None
    return env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME")


def _github_run_url(env: Mapping[str, str]) -> str | None:
    """The web page of this GitHub Actions run, when the build runs there."""
    parts = [env.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server}/{repository}/actions/runs/{run_id}"


def _git_branch() -> str | None:
    """The checked-out branch, or None on a detached commit (git answers `HEAD` there)."""
    branch = _git("rev-parse", "--abbrev-ref", "HEAD")
    return None if branch == "HEAD" else branch


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> dict[str, str]:
    """The environment over the values of a `.env` file, taken as written (no `${VAR}` expansion):
    a variable already set wins."""
    from_file = dotenv_values(dotenv_path, interpolate=False)
    return {**{key: value for key, value in from_file.items() if value is not None}, **(os.environ if environ is None else environ)}


@frozen
class Settings:
    """Every value the service's pipeline reads from the environment or `.env`, read once."""

    provider_name: str = DEFAULT_PROVIDER_NAME
    broker_url: str | None = None
    broker_token: str | None = field(default=None, repr=False)
    broker_username: str | None = None
    broker_password: str | None = field(default=None, repr=False)
    publish_results: bool = False
    publish_provider_contract: bool = True
    provider_version: str | None = None
    provider_branch: str | None = None
    build_url: str | None = None
    pact_url: str | None = None
    pact_dir: Path = Path("pacts")
    environment: str = "production"
    main_branch: str = "main"
    include_wip_since: str = "2020-01-01"
    pull_request: bool = False
    verify_timeout: int = 900
    broker_retries: int = 3
    jobs: int = 1
    can_i_deploy_retries: int = 10
    can_i_deploy_interval: int = 10
    travis_token: str | None = field(default=None, repr=False)
    travis_repo: str = "pactflow/example-provider-python"
    webhook_uuid: str = TRAVIS_WEBHOOK_UUID
    github_token: str | None = field(default=None, repr=False)
    github_repository: str | None = None
    github_webhook_uuid: str = GITHUB_WEBHOOK_UUID
    separate_deploy_job: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> Settings:
        """Read the settings from the environment, falling back to `.env`, then to git."""
        env = {key: value for key, value in read_environment(environ, dotenv_path).items() if value != ""}
        version = env.get("GIT_COMMIT") or env.get("TRAVIS_COMMIT") or env.get("GITHUB_SHA")
        branch = env.get("GIT_BRANCH") or env.get("TRAVIS_BRANCH") or _github_branch(env)
        broker_url, username, password = _broker_login(env)
        return cls(
            provider_name=env.get("PACT_PROVIDER_NAME", DEFAULT_PROVIDER_NAME),
            broker_url=broker_url,
            broker_token=env.get("PACT_BROKER_TOKEN"),
            broker_username=username,
            broker_password=password,
            publish_results=env.get("PACT_BROKER_PUBLISH_VERIFICATION_RESULTS", "").lower() in TRUE_WORDS,
            publish_provider_contract=env.get("PACT_PUBLISH_PROVIDER_CONTRACT", "true").lower() in TRUE_WORDS,
            provider_version=version or _git("rev-parse", "HEAD"),
            provider_branch=branch or _git_branch(),
            build_url=env.get("TRAVIS_BUILD_WEB_URL") or env.get("BUILD_URL") or _github_run_url(env),
            pact_url=env.get("PACT_URL"),
            pact_dir=Path(env.get("PACT_DIR", "pacts")),
            environment=env.get("DEPLOY_ENVIRONMENT", "production"),
            main_branch=_main_branch(env),
            include_wip_since=env.get("PACT_INCLUDE_WIP_SINCE", "2020-01-01"),
            pull_request=(
                env.get("TRAVIS_PULL_REQUEST", "false") != "false"
                or env.get("GITHUB_EVENT_NAME") in GITHUB_PULL_REQUEST_EVENTS
            ),
            verify_timeout=_count(env, "VERIFY_TIMEOUT", 900, least=1),
            broker_retries=_count(env, "PACT_BROKER_HTTP_RETRIES", 3),
            jobs=_count(env, "JOBS", os.cpu_count() or 1, least=1),
            can_i_deploy_retries=_count(env, "CAN_I_DEPLOY_RETRIES", 10),
            can_i_deploy_interval=_count(env, "CAN_I_DEPLOY_RETRY_INTERVAL", 10),
            travis_token=env.get("TRAVIS_TOKEN"),
            travis_repo=env.get("TRAVIS_REPO_SLUG", "pactflow/example-provider-python"),
            webhook_uuid=env.get("PACT_WEBHOOK_UUID", TRAVIS_WEBHOOK_UUID),
            github_token=env.get("GITHUB_TOKEN"),
            github_repository=env.get("GITHUB_REPOSITORY"),
            github_webhook_uuid=env.get("PACT_GITHUB_WEBHOOK_UUID", GITHUB_WEBHOOK_UUID),
            separate_deploy_job=env.get("SEPARATE_DEPLOY_JOB", "").lower() in TRUE_WORDS,
        )

    @property
    def has_broker(self) -> bool:
        """Whether a broker is configured at all."""
        return self.broker_url is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credential values, so output can be scrubbed of them (a password inside PACT_URL too)."""
        values = (self.broker_token, self.broker_password, self.travis_token, self.github_token, _url_password(self.pact_url))
        return tuple(value for value in values if value)
