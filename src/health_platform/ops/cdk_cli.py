"""The pinned CDK CLI (package.json), run with the pinned Node against a synthesized
cloud assembly. CloudFormation does the deploying; nothing here re-implements it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from health_platform.errors import AwsError, ToolchainError
from health_platform.paths import pinned_node, project_root


def cdk_command(assembly: Path, verb: str, stacks: Sequence[str], *options: str) -> list[str]:
    """argv for `cdk VERB` on already-synthesized `assembly` (no second synthesis)."""
    cli = project_root() / "node_modules" / "aws-cdk" / "bin" / "cdk"
    node = pinned_node()
    if not cli.exists() or not node.exists():
        raise ToolchainError("The pinned CDK CLI or Node is missing; run `make setup`.")
    return [str(node), str(cli), verb, "--app", str(assembly), *options, *stacks]


def run_cdk(argv: list[str], *, failure: str) -> None:
    """Run the CDK CLI with its output going straight to the terminal (CloudFormation
    events as they happen); a non-zero exit becomes `failure` (exit code 5)."""
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    completed = subprocess.run(argv, env=env, check=False)  # noqa: S603 - argv built above
    if completed.returncode != 0:
        raise AwsError(failure)
