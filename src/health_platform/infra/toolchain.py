"""Make the CDK's JavaScript runtime available before aws_cdk is imported.

jsii runs the CDK in a Node process and honours JSII_NODE. The repository pins Node 22
through npm (`node@22` in package.json) because older Node versions are unsupported.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from health_platform.errors import ToolchainError
from health_platform.paths import pinned_node

MINIMUM_NODE_MAJOR = 22


def _node_major(node: str) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a fixed command, not user input
            [node, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return int(out.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None


def prepare_cdk_runtime() -> None:
    """Point jsii at a Node it supports, or raise ToolchainError saying how to get one."""
    chosen = os.environ.get("JSII_NODE")
    if not chosen:
        pinned = pinned_node()
        chosen = str(pinned) if pinned.exists() else shutil.which("node")
    if chosen is None or (_node_major(chosen) or 0) < MINIMUM_NODE_MAJOR:
        raise ToolchainError(
            f"The CDK needs Node {MINIMUM_NODE_MAJOR} or newer and none was found"
            f" (looked at JSII_NODE, {pinned_node()} and PATH); run `make setup`."
        )
    os.environ["JSII_NODE"] = chosen
    # jsii's "untested Node version" banner is noise in a CLI that pins its Node.
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    try:
        import aws_cdk  # noqa: F401 - the import is the check
    except ImportError as missing:
        raise ToolchainError(
            "The CDK libraries are not installed; run `make setup`"
            " (or `pip install 'health-platform[infra]'`)."
        ) from missing
