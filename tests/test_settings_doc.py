from __future__ import annotations

import ast
import re
from pathlib import Path

from pipeline.settings import VARIABLES, Settings

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(?P<name>[A-Z_]+)` \| (?P<default>[^|]+) \| (?P<meaning>[^|]+) \|$", re.MULTILINE)


def documented() -> dict[str, str]:
    """The variables of docs/settings.md's table, each with its default as written."""
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    return {row["name"]: row["default"].strip() for row in ROW.finditer(text)}


def test_the_table_names_every_variable_the_settings_read_and_no_other() -> None:
    assert set(documented()) == VARIABLES


def test_every_variable_named_in_the_settings_is_listed() -> None:
    tree = ast.parse((ROOT / "pipeline" / "settings.py").read_text(encoding="utf-8"))
    named = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9_]{3,}", node.value)
    }
    assert named - {"HEAD"} <= VARIABLES and "PACT_BROKER_BASE_URL" in named  # HEAD: an argument of git


def test_the_documented_literal_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"MAIN_BRANCH": "main", "GIT_COMMIT": "c1"}, tmp_path / ".env")
    read = {
        "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS": str(settings.publish_results).lower(),
        "PACT_BROKER_HTTP_RETRIES": str(settings.broker_retries),
        "PACT_PROVIDER_NAME": settings.provider_name,
        "PACT_DIR": str(settings.pact_dir),
        "PACT_INCLUDE_WIP_SINCE": settings.include_wip_since,
        "PACT_VERIFICATION_REPORT": str(settings.report_path),
        "PACT_PUBLISH_PROVIDER_CONTRACT": str(settings.publish_provider_contract).lower(),
        "PACT_PROVIDER_CONTRACT_EXAMPLES": str(settings.provider_contract_examples),
        "PACT_WEBHOOK_UUID": settings.webhook_uuid,
        "PACT_GITHUB_WEBHOOK_UUID": settings.github_webhook_uuid,
        "DEPLOY_ENVIRONMENT": settings.environment,
        "SEPARATE_DEPLOY_JOB": str(settings.separate_deploy_job).lower(),
        "CAN_I_DEPLOY_RETRIES": str(settings.can_i_deploy_retries),
        "CAN_I_DEPLOY_RETRY_INTERVAL": str(settings.can_i_deploy_interval),
        "VERIFY_TIMEOUT": str(settings.verify_timeout),
        "TRAVIS_REPO_SLUG": settings.travis_repo,
        "GITHUB_ACTIONS": str(settings.github_actions).lower(),
    }
    defaults = documented()
    assert {name: defaults[name] for name in read} == {name: f"`{value}`" for name, value in read.items()}
