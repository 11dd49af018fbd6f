"""`hp infra synth`: write the environments' CloudFormation templates, offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from health_platform.errors import ExitCode, UserError
from health_platform.infra.app import build_app
from health_platform.settings import EnvironmentSettings


class SynthesisError(UserError):
    exit_code = ExitCode.FINDINGS


def synthesize(environments: Sequence[EnvironmentSettings], outdir: Path) -> list[str]:
    """Synthesize and return the stack names written to `outdir`."""
    app, built = build_app(environments, outdir)
    try:
        app.synth()
    except RuntimeError as failed:
        raise SynthesisError(f"Synthesis failed: {failed}") from failed
    return [stack.stack_name for env in built for stack in env.stacks.values()]
