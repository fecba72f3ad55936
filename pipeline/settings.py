"""Every value the pipeline reads from the environment or `.env`, read once into a frozen record."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from attrs import field, frozen
from dotenv import dotenv_values

from pipeline import PipelineError
from pipeline.output import CONTROL, printable
from pipeline.pacts import scheme_of

PROVIDER = "pactflow-example-provider-python"
REPORT = Path("reports/pact-verification.xml")
TRAVIS_WEBHOOK = "9f4dbd35-0ac4-4d3c-8b4e-5f1e7a2c6b10"
GITHUB_WEBHOOK = "3c1f0a52-7d4e-4b8a-9e26-0b5d8c4f7a31"
CONTRACT_EXAMPLES = 20  # generated requests per operation in the provider contract's self-verification
# Every variable the settings read, fallbacks included: what docs/settings.md lists and a test clears.
# fmt: off
VARIABLES = frozenset({
    "PACT_PROVIDER_NAME", "PACT_BROKER_BASE_URL", "PACT_BROKER_TOKEN", "PACT_BROKER_USERNAME", "PACT_BROKER_PASSWORD",
    "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS", "PACT_PUBLISH_PROVIDER_CONTRACT", "PACT_PROVIDER_CONTRACT_EXAMPLES",
    "GIT_COMMIT", "TRAVIS_COMMIT", "GITHUB_SHA", "GIT_BRANCH", "TRAVIS_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME",
    "TRAVIS_BUILD_WEB_URL", "BUILD_URL", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "PACT_URL",
    "PACT_DIR", "DEPLOY_ENVIRONMENT", "MAIN_BRANCH", "PACT_INCLUDE_WIP_SINCE", "TRAVIS_PULL_REQUEST",
    "GITHUB_EVENT_NAME", "VERIFY_TIMEOUT", "PACT_BROKER_HTTP_RETRIES", "JOBS", "CAN_I_DEPLOY_RETRIES",
    "CAN_I_DEPLOY_RETRY_INTERVAL", "TRAVIS_TOKEN", "TRAVIS_REPO_SLUG", "PACT_WEBHOOK_UUID", "GITHUB_TOKEN",
    "PACT_GITHUB_WEBHOOK_UUID", "SEPARATE_DEPLOY_JOB", "PACT_VERIFICATION_REPORT", "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
})
# fmt: on


class SettingsError(PipelineError):
    """A setting has a value the pipeline cannot use: nothing is run."""

    exit_code = 2


@frozen
class Settings:
    """Every value the service's pipeline reads from the environment or `.env`; secrets stay out of its repr."""

    provider_name: str = PROVIDER
    broker_url: str | None = None
    broker_token: str | None = field(default=None, repr=False)
    broker_username: str | None = None
    broker_password: str | None = field(default=None, repr=False)
    publish_results: bool = False
    publish_provider_contract: bool = True
    provider_contract_examples: int = CONTRACT_EXAMPLES
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
    webhook_uuid: str = TRAVIS_WEBHOOK
    github_token: str | None = field(default=None, repr=False)
    github_repository: str | None = None
    github_webhook_uuid: str = GITHUB_WEBHOOK
    separate_deploy_job: bool = False
    report_path: Path = REPORT
    github_actions: bool = False
    step_summary: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> Settings:
        """The settings from the environment over `.env`, then git; SettingsError names a value it cannot use."""
        env = read_environment(environ, dotenv_path)
        text = env.get
        commit = text("GIT_COMMIT")
        github_run = [text(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
        broker_url, username, password = _broker_url(env)
        return cls(
            provider_name=text("PACT_PROVIDER_NAME", PROVIDER),
            broker_url=broker_url,
            broker_token=text("PACT_BROKER_TOKEN"),
            broker_username=username,
            broker_password=password,
            publish_results=_flag(env, "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS", False),
            publish_provider_contract=_flag(env, "PACT_PUBLISH_PROVIDER_CONTRACT", True),
            provider_contract_examples=_count(env, "PACT_PROVIDER_CONTRACT_EXAMPLES", CONTRACT_EXAMPLES, least=1),
            provider_version=commit or text("TRAVIS_COMMIT") or text("GITHUB_SHA") or _git("rev-parse", "HEAD"),
            # GitHub's branch only for GitHub's own commit: a webhook build of another commit is told its branch
            provider_branch=text("GIT_BRANCH")
            or text("TRAVIS_BRANCH")
            or (None if commit else text("GITHUB_HEAD_REF") or text("GITHUB_REF_NAME"))
            or _git_branch(),
            build_url=text("TRAVIS_BUILD_WEB_URL")
            or text("BUILD_URL")
            or ("{}/{}/actions/runs/{}".format(*github_run) if all(github_run) else None),
            pact_url=_url(env, "PACT_URL", ("http", "https", "file"), required=False),
            pact_dir=Path(text("PACT_DIR", "pacts")),
            environment=text("DEPLOY_ENVIRONMENT", "production"),
            # origin/HEAD: the remote's default branch
            main_branch=text("MAIN_BRANCH")
            or (_git("symbolic-ref", "--short", "refs/remotes/origin/HEAD") or "").removeprefix("origin/")
            or "main",
            include_wip_since=text("PACT_INCLUDE_WIP_SINCE", "2020-01-01"),
            pull_request=text("TRAVIS_PULL_REQUEST", "false") != "false"
            or text("GITHUB_EVENT_NAME") in ("pull_request", "pull_request_target"),
            verify_timeout=_count(env, "VERIFY_TIMEOUT", 900, least=1),
            broker_retries=_count(env, "PACT_BROKER_HTTP_RETRIES", 3),
            jobs=_count(env, "JOBS", os.cpu_count() or 1, least=1),
            can_i_deploy_retries=_count(env, "CAN_I_DEPLOY_RETRIES", 10),
            can_i_deploy_interval=_count(env, "CAN_I_DEPLOY_RETRY_INTERVAL", 10),
            travis_token=text("TRAVIS_TOKEN"),
            travis_repo=text("TRAVIS_REPO_SLUG", "pactflow/example-provider-python"),
            webhook_uuid=text("PACT_WEBHOOK_UUID", TRAVIS_WEBHOOK),
            github_token=text("GITHUB_TOKEN"),
            github_repository=text("GITHUB_REPOSITORY"),
            github_webhook_uuid=text("PACT_GITHUB_WEBHOOK_UUID", GITHUB_WEBHOOK),
            separate_deploy_job=_flag(env, "SEPARATE_DEPLOY_JOB", False),
            report_path=Path(text("PACT_VERIFICATION_REPORT", str(REPORT))),
            github_actions=_flag(env, "GITHUB_ACTIONS", False),
            step_summary=Path(text("GITHUB_STEP_SUMMARY", "")) if text("GITHUB_STEP_SUMMARY") else None,
        )

    @property
    def has_broker(self) -> bool:
        """Whether a broker is configured at all."""
        return self.broker_url is not None

    def on_the_broker(self, url: str) -> bool:
        """Whether a URL may be fetched with the broker's credentials: a file, no broker, or the broker's origin."""
        return "://" not in url or self.broker_url is None or origin(url) == origin(self.broker_url)

    def credentials(self, url: str) -> dict[str, str]:
        """The broker's credentials as the verifier takes them, for a URL on the broker's origin only."""
        if "://" not in url or self.broker_url is None or not self.on_the_broker(url):
            return {}
        if self.broker_token:
            return {"token": self.broker_token}
        if self.broker_username:
            return {"username": self.broker_username, "password": self.broker_password or ""}
        return {}

    def scrub(self, text: str) -> str:
        """The text with every credential replaced by asterisks (a password inside PACT_URL too)."""
        in_url = unquote(urlsplit(self.pact_url or "").password or "")
        for secret in (self.broker_token, self.broker_password, self.travis_token, self.github_token, in_url):
            if secret:
                text = text.replace(secret, "********")
        return text


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: str | Path = ".env") -> dict[str, str]:
    """The set variables from the environment over `.env` (as written: no `${VAR}`); a control character refused."""
    try:
        from_file = dotenv_values(dotenv_path, interpolate=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{printable(dotenv_path)} is not UTF-8 text: save it as UTF-8") from None
    env = {**from_file, **(os.environ if environ is None else environ)}
    found = {name: value for name in VARIABLES if (value := env.get(name))}
    for name, value in found.items():
        if bad := CONTROL.search(value):
            where = "at its end" if bad.start() == len(value.rstrip()) else f"at position {bad.start() + 1}"
            raise SettingsError(f"{name} has a control character ({printable(bad[0])}) {where}: remove it")
    return found


def origin(url: str) -> tuple[str, str | None, int | None]:
    """A URL's scheme, host and port (the scheme's default when none is given)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = -1
    return parts.scheme.lower(), parts.hostname, port or {"http": 80, "https": 443}.get(parts.scheme.lower())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    return env[name].lower() in {"1", "true", "yes", "on"} if name in env else default


def _count(env: Mapping[str, str], name: str, default: int, least: int = 0) -> int:
    if (text := env.get(name)) is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < least:
        raise SettingsError(f"{name} must be a whole number of {least} or more, got {printable(text)!r}")
    return int(text)


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...], required: bool = True) -> str | None:
    """A URL with one of these schemes, a host and a valid port (or, not `required`, a path: no `://`)."""
    given = env.get(name)
    if given is None or ("://" not in given and not required):
        return given
    try:
        scheme = scheme_of(given, what=name)
    except PipelineError as error:
        raise SettingsError(str(error)) from None
    if scheme not in schemes or (not urlsplit(given).hostname and scheme != "file"):
        raise SettingsError(f"{name} must be a {' or '.join(schemes)} URL with a host, got {printable(given)}")
    return given


def _broker_url(env: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """The broker URL without user information, and the basic credentials (from the URL or their variables)."""
    url = _url(env, "PACT_BROKER_BASE_URL", ("http", "https"))
    username, password = env.get("PACT_BROKER_USERNAME"), env.get("PACT_BROKER_PASSWORD")
    parts = urlsplit(url or "")
    if "@" not in parts.netloc:
        return url, username, password
    if username or password or env.get("PACT_BROKER_TOKEN"):
        raise SettingsError(
            "PACT_BROKER_BASE_URL has a user name and password in it: give them either there or as "
            "PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD, and with them no PACT_BROKER_TOKEN"
        )
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host)), unquote(parts.username or ""), unquote(parts.password or "")


def _git(*args: str) -> str | None:
    """A line of git's answer, or None outside a checkout."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _git_branch() -> str | None:
    """The checked-out branch, or None on a detached commit (git answers `HEAD` there)."""
    return None if (branch := _git("rev-parse", "--abbrev-ref", "HEAD")) == "HEAD" else branch
