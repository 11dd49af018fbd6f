"""Where the project's files live: found from the working directory, then from this package."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = "environments"
# The checkout this package runs from (an editable install): its Dockerfiles, frontend.
REPO = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The checkout that holds `environments/`: the working directory or one of its parents,
    falling back to the checkout this package was installed from (editable install)."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / _MARKER).is_dir() and (candidate / "pyproject.toml").is_file():
                return candidate
    return Path.cwd()


def environments_dir() -> Path:
    """`environments/` of the checkout, unless HP_ENVIRONMENTS_DIR names another folder
    (a team may keep its environment files in a repository of its own)."""
    override = os.environ.get("HP_ENVIRONMENTS_DIR")
    return Path(override) if override else project_root() / _MARKER


def cdk_out_dir() -> Path:
    return project_root() / "cdk.out"


def drill_reports_dir() -> Path:
    """Where `hp dr drill ENV` keeps its reports: evidence of the drills, to commit."""
    return project_root() / "reports" / "drills"


def compliance_reports_dir() -> Path:
    """Where `hp compliance ENV` writes its reports unless told otherwise."""
    return project_root() / "reports" / "compliance"


def pinned_node() -> Path:
    """The Node 22 runtime that package.json pins (npm package `node@22`)."""
    return project_root() / "node_modules" / ".bin" / "node"
