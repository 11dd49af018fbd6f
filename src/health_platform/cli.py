"""`hp`: the one command for the platform's life cycle.

Commands are thin: they parse, call a plain function, and render. User mistakes are one
sentence and a documented exit code (health_platform.errors.ExitCode); anything else is a
bug and keeps its traceback. aws_cdk and the environment model are imported only inside the
commands that need them, so `hp --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from health_platform import __version__
from health_platform.cli_local import register as register_local_commands
from health_platform.errors import ExitCode, InvalidInputError, UserError
from health_platform.paths import cdk_out_dir

if TYPE_CHECKING:
    from health_platform.infra.compliance.check import StackReport
    from health_platform.ops.status import EnvironmentStatus
    from health_platform.settings import EnvironmentSettings

# Rich assumes 80 columns when output is not a terminal (CI logs, pipes); tables of stack
# names need more, and a log has no width to respect.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
out = Console(width=_WIDTH)
err = Console(stderr=True, soft_wrap=True)  # one sentence stays one line

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 findings (the check found problems, or synthesis failed);"
    " 2 invalid input (arguments, unknown environment, invalid environment file);"
    " 3 toolchain missing (run `make setup`); 4 no AWS credentials; 5 AWS refused a call or"
    " a deployment failed; 6 refused (production destroy, or you answered no); 7 the local"
    " platform could not start (hp up: a port in use, or a component failed)."
)

app = typer.Typer(
    name="hp",
    help="health-platform: run a Personal Health Platform on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
infra = typer.Typer(
    help="Infrastructure as code: check offline, deploy, inspect.", no_args_is_help=True
)
app.add_typer(infra, name="infra")

EnvArgument = Annotated[
    str | None, typer.Argument(help="Environment name (a file in environments/).")
]
AllOption = Annotated[bool, typer.Option("--all", help="Every environment.")]
EnvRequired = Annotated[str, typer.Argument(help="Environment name (a file in environments/).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Cloud assembly directory (default: cdk.out).")
]


def _version(value: bool) -> None:
    if value:
        out.print(f"hp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """health-platform: run a Personal Health Platform on AWS."""


def _select(env: str | None, every: bool) -> list[EnvironmentSettings]:
    # Imported here: building the pydantic models costs `hp --help` a fifth of a second.
    from health_platform.settings import load_environments

    if every:
        if env:
            raise InvalidInputError("Name one environment or pass --all, not both.")
        return load_environments()
    if not env:
        raise InvalidInputError("Name an environment (e.g. `dev`) or pass --all.")
    return load_environments([env])


def _prepare_cdk() -> None:
    from health_platform.infra.toolchain import prepare_cdk_runtime

    prepare_cdk_runtime()


@infra.command("synth", epilog=EXIT_CODES_HELP)
def synth(env: EnvArgument = None, every: AllOption = False, out_dir: OutOption = None) -> None:
    """Write CloudFormation templates to cdk.out/, offline: no credentials, no network."""
    environments = _select(env, every)
    _prepare_cdk()
    from health_platform.infra.synth import synthesize

    target = out_dir or cdk_out_dir()
    with err.status("Synthesizing…"):
        stacks = synthesize(environments, target)
    for name in stacks:
        out.print(f"[green]✓[/] {name}  →  {target / (name + '.template.json')}")


@infra.command("check", epilog=EXIT_CODES_HELP)
def check(env: EnvArgument = None, every: AllOption = False, out_dir: OutOption = None) -> None:
    """Synthesize, then run cfn-lint and the cdk-nag HIPAA Security pack.

    Fails on any cfn-lint error or warning and on any unacknowledged HIPAA finding.
    Ignored cfn-lint rules live in .cfnlintrc.yaml; acknowledged HIPAA findings in
    health_platform/infra/compliance/acknowledgements.py, each with its reason.
    """
    environments = _select(env, every)
    _prepare_cdk()
    from health_platform.infra.compliance.check import run_check

    with err.status("Synthesizing and checking…"):
        reports = run_check(environments, out_dir or cdk_out_dir())
    _render_check(reports)
    if not all(r.passed for r in reports):
        raise typer.Exit(ExitCode.FINDINGS)


@infra.command("rehearse", epilog=EXIT_CODES_HELP)
def rehearse(env: EnvRequired, out_dir: OutOption = None) -> None:
    """Run each service from its synthesized task definition on this machine, as Fargate
    would: its user, a read-only root, its volumes as Fargate mounts them, exactly the
    environment and secret names it is given (secrets and AWS endpoints as local
    stand-ins), judged by its own health check. Needs bubblewrap and root; no Docker, no AWS.
    """
    settings = _one(env)
    target = out_dir or cdk_out_dir()
    _synthesize_quietly([settings], target)
    from health_platform.rehearse.run import rehearse_environment

    with err.status("Rehearsing the services…"):
        rehearsals = rehearse_environment(settings, target)
    _table(
        f"Rehearsal of {settings.name}",
        ("service", "result", "seconds", "why"),
        [
            (
                r.service,
                _mark(r.result.passed, "pass" if r.result.passed else "FAIL"),
                f"{r.result.duration_s:.1f}",
                r.result.reason,
            )
            for r in rehearsals
        ],
    )
    for failed in (r for r in rehearsals if not r.result.passed and r.result.log_tail):
        err.print(f"[bold]{failed.service}: its last log lines[/]", highlight=False)
        for line in failed.result.log_tail:
            err.print(f"  {line}", highlight=False, markup=False)
    if not all(r.result.passed for r in rehearsals):
        raise typer.Exit(ExitCode.FINDINGS)


def _one(env: str) -> EnvironmentSettings:
    return _select(env, every=False)[0]


def _synthesize_quietly(environments: Sequence[EnvironmentSettings], target: Path) -> list[str]:
    _prepare_cdk()
    from health_platform.infra.synth import synthesize

    with err.status("Synthesizing…"):
        return synthesize(environments, target)


def _confirm(question: str) -> bool:
    return typer.confirm(question, default=False, err=True)


@infra.command("plan", epilog=EXIT_CODES_HELP)
def plan(env: EnvRequired, out_dir: OutOption = None) -> None:
    """Show what `apply` would change in the account (the pinned CDK CLI's diff)."""
    from health_platform.ops import deploy

    deploy.plan(_one(env), out_dir or cdk_out_dir(), _synthesize_quietly)


@infra.command("apply", epilog=EXIT_CODES_HELP)
def apply(
    env: EnvRequired,
    stacks: Annotated[
        str | None,
        typer.Option(help="Only these parts, comma-separated (e.g. network,data)."),
    ] = None,
    yes: YesOption = False,
    out_dir: OutOption = None,
) -> None:
    """Deploy the environment's stacks in dependency order (asks first in production)."""
    from health_platform.ops import deploy

    parts = [p.strip() for p in stacks.split(",") if p.strip()] if stacks else None
    deployed = deploy.apply(
        _one(env),
        out_dir or cdk_out_dir(),
        _synthesize_quietly,
        parts=parts,
        confirm=(lambda _: True) if yes else _confirm,
    )
    out.print(f"[green]Deployed[/] {', '.join(deployed)}.")


@infra.command("destroy", epilog=EXIT_CODES_HELP)
def destroy(env: EnvRequired, yes: YesOption = False, out_dir: OutOption = None) -> None:
    """Delete the environment's stacks; stateful resources are retained. Refuses production."""
    from health_platform.ops import deploy

    def confirm(question: str) -> bool:
        return yes or _confirm(question)

    def announce(retained: Sequence[str]) -> None:
        for line in retained:
            out.print(f"  retained: {line}")

    kept = deploy.destroy(
        _one(env), out_dir or cdk_out_dir(), _synthesize_quietly, confirm=confirm, announce=announce
    )
    out.print(f"Destroyed {env}; {len(kept)} retained resource(s) remain and keep costing.")


@infra.command("status", epilog=EXIT_CODES_HELP)
def status(env: EnvRequired) -> None:
    """Stacks, services, targets, database, cache and alarms of a deployed environment."""
    import boto3

    from health_platform.ops.aws import require_credentials
    from health_platform.ops.status import environment_status

    settings = _one(env)
    require_credentials(boto3.Session())
    with err.status(f"Reading {settings.name} from AWS…"):
        report = environment_status(settings)
    _render_status(report)


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _mark(healthy: bool, text: str) -> str:
    return f"[green]{text}[/]" if healthy else f"[red]{text}[/]"


def _render_status(report: EnvironmentStatus) -> None:
    _table(
        "Stacks",
        ("stack", "region", "status", "reason"),
        [(s.name, s.region, _mark(s.healthy, s.status), s.reason) for s in report.stacks],
    )
    _table(
        "Services",
        ("service", "desired", "running", "pending", "deployment"),
        [
            (
                s.name,
                str(s.desired),
                _mark(s.healthy, str(s.running)),
                str(s.pending),
                " ".join(filter(None, (s.rollout, s.rollout_reason))),
            )
            for s in report.services
        ],
    )
    _table(
        "Targets",
        ("service", "target", "health", "reason"),
        [(t.service, t.target, _mark(t.healthy, t.state), t.reason) for t in report.targets],
    )
    _table(
        "Data",
        ("kind", "name", "status"),
        [(d.kind, d.name, _mark(d.healthy, d.status)) for d in report.data],
    )
    _table(
        "Alarms in ALARM",
        ("alarm", "reason"),
        [(a.name, a.reason) for a in report.alarms],
    )
    outputs = [(s.name, k, v) for s in report.stacks for k, v in sorted(s.outputs.items())]
    if outputs:
        _table("Outputs", ("stack", "output", "value"), outputs)
    verdict = "healthy" if report.healthy else "NOT healthy"
    out.print(_mark(report.healthy, f"{report.environment} is {verdict}."))


def _render_check(reports: Sequence[StackReport]) -> None:
    summary = Table(title="Compliance check", title_justify="left")
    for column in ("stack", "region", "resources", "acks", "findings", "result"):
        summary.add_column(column, justify="left" if column == "stack" else "right", no_wrap=True)
    for r in reports:
        summary.add_row(
            r.stack,
            r.region,
            str(r.resources),
            str(len(r.acknowledged)),
            str(len(r.findings)),
            "[green]pass[/]" if r.passed else "[red]FAIL[/]",
        )
    out.print(summary)
    for r in reports:
        if r.passed:
            continue
        details = Table(title=f"{r.stack}: findings", title_justify="left", show_lines=True)
        for column in ("tool", "rule", "where", "message"):
            details.add_column(column, overflow="fold")
        for f in r.findings:
            details.add_row(f.tool, f.rule, f.location, f.message)
        out.print(details)
    failed = sum(len(r.findings) for r in reports)
    if failed:
        out.print(f"[red]{failed} finding(s) in {sum(not r.passed for r in reports)} stack(s).[/]")
    else:
        out.print(f"[green]No findings in {len(reports)} stack(s).[/]")


register_local_commands(app, out, err)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `hp`; returns the exit code instead of exiting (tests call this).

    Typer reports usage mistakes itself (exit 2); a UserError from a command becomes its
    one-sentence message and documented exit code.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="hp")
    except SystemExit as finished:
        code = finished.code
        return code if isinstance(code, int) else ExitCode.OK if code is None else 1
    except UserError as problem:
        err.print(f"[red]error:[/] {problem}", highlight=False)
        return problem.exit_code
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
