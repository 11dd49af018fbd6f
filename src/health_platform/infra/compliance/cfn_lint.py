"""cfn-lint over synthesized templates, with the project's one configuration file."""

from __future__ import annotations

from pathlib import Path

import yaml
from cfnlint.api import ManualArgs, lint_file

from health_platform.paths import project_root

CONFIG_FILE = ".cfnlintrc.yaml"


def ignored_rules(root: Path | None = None) -> list[str]:
    config = yaml.safe_load((root or project_root()).joinpath(CONFIG_FILE).read_text()) or {}
    return list(config.get("ignore_checks", []))


def lint_template(template: Path, regions: list[str]) -> list[tuple[str, str, str]]:
    """(rule id, location, message) for every error and warning cfn-lint reports."""
    config = ManualArgs(regions=regions, ignore_checks=ignored_rules())
    return [
        (match.rule.id, "/".join(map(str, match.path)), match.message)
        for match in lint_file(template, config=config)
    ]
