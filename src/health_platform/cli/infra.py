"""`hp infra …`: the infrastructure's life cycle. Offline: synth, check, rehearse. Against
an account: plan, apply, status, drift, destroy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from health_platform.cli.common import (
    AllOption,
    AwsEnvArgument,
    OptionalEnvArgument,
    OutOption,
    YesOption,
    aws,
    command_group,
    confirm,
    err,
    mark,
    one,
    out,
    select,
    table,
)
from health_platform.errors import ExitCode, exit_codes_help
from health_platform.paths import cdk_out_dir

if TYPE_CHECKING:
    from health_platform.infra.compliance.check import StackReport
    from health_platform.ops.status import EnvironmentStatus
    from health_platform.settings import EnvironmentSettings

AWS_CHANGE = (ExitCode.TOOLCHAIN, ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR, ExitCode.REFUSED)

app = command_group(
    help="Infrastructure as code: check offline, deploy, inspect.", no_args_is_help=True
)


def _prepare_cdk() -> None:
    from health_platform.infra.toolchain import prepare_cdk_runtime

    prepare_cdk_runtime()


@app.command("synth", epilog=exit_codes_help(ExitCode.TOOLCHAIN, ExitCode.FINDINGS))
def synth(
    env: OptionalEnvArgument = None, every: AllOption = False, out_dir: OutOption = None
) -> None:
    """Write CloudFormation templates to cdk.out/, offline: no credentials, no network."""
    environments = select(env, every)
    _prepare_cdk()
    from health_platform.infra.synth import synthesize

    target = out_dir or cdk_out_dir()
    with err.status("Synthesizing…"):
        stacks = synthesize(environments, target)
    for name in stacks:
        out.print(f"[green]✓[/] {name}  →  {target / (name + '.template.json')}")


@app.command("check", epilog=exit_codes_help(ExitCode.FINDINGS, ExitCode.TOOLCHAIN))
def check(
    env: OptionalEnvArgument = None, every: AllOption = False, out_dir: OutOption = None
) -> None:
    """Synthesize, then run cfn-lint and the cdk-nag HIPAA Security pack.

    Fails on any cfn-lint error or warning and on any unacknowledged HIPAA finding.
    Ignored cfn-lint rules live in .cfnlintrc.yaml; acknowledged HIPAA findings in
    health_platform/infra/compliance/acknowledgements.py, each with its reason.
    """
    environments = select(env, every)
    _prepare_cdk()
    from health_platform.infra.compliance.check import run_check

    with err.status("Synthesizing and checking…"):
        reports = run_check(environments, out_dir or cdk_out_dir())
    _render_check(reports)
    if not all(r.passed for r in reports):
        raise typer.Exit(ExitCode.FINDINGS)


@app.command("rehearse", epilog=exit_codes_help(ExitCode.FINDINGS, ExitCode.TOOLCHAIN))
def rehearse(env: AwsEnvArgument, out_dir: OutOption = None) -> None:
    """Run each service from its synthesized task definition on this machine, as Fargate
    would: its user, a read-only root, its volumes as Fargate mounts them, exactly the
    environment and secret names it is given (secrets and AWS endpoints as local
    stand-ins), judged by its own health check. Needs bubblewrap and root; no Docker, no AWS.
    """
    settings = one(env)
    target = out_dir or cdk_out_dir()
    _synthesize_quietly([settings], target)
    from health_platform.rehearse.run import rehearse_environment

    with err.status("Rehearsing the services…"):
        rehearsals = rehearse_environment(settings, target)
    table(
        f"Rehearsal of {settings.name}",
        ("service", "result", "seconds", "why"),
        [
            (
                r.service,
                mark(r.result.passed, "pass" if r.result.passed else "FAIL"),
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


def _synthesize_quietly(environments: Sequence[EnvironmentSettings], target: Path) -> list[str]:
    _prepare_cdk()
    from health_platform.infra.synth import synthesize

    with err.status("Synthesizing…"):
        return synthesize(environments, target)


@app.command("bootstrap", epilog=exit_codes_help(*AWS_CHANGE[:3]))
def bootstrap(env: AwsEnvArgument, out_dir: OutOption = None) -> None:
    """Prepare the account for the CDK, once, in every region the environment uses.

    The pinned CDK CLI's bootstrap (a staging bucket, deployment roles, a version
    parameter) in the environment's region, us-east-1 for the edge, and production's DR
    region; run it before the first `hp infra apply`. Running it again is harmless."""
    from health_platform.ops import deploy

    targets = deploy.bootstrap(one(env), out_dir or cdk_out_dir(), _synthesize_quietly)
    out.print(f"[green]Bootstrapped[/] {', '.join(targets)}.", highlight=False)


@app.command("plan", epilog=exit_codes_help(*AWS_CHANGE[:3]))
def plan(env: AwsEnvArgument, out_dir: OutOption = None) -> None:
    """Show what `apply` would change in the account (the pinned CDK CLI's diff)."""
    from health_platform.ops import deploy

    deploy.plan(one(env), out_dir or cdk_out_dir(), _synthesize_quietly)


@app.command(
    "apply",
    epilog=exit_codes_help(*AWS_CHANGE, ExitCode.TIMED_OUT),
)
def apply(
    env: AwsEnvArgument,
    stacks: Annotated[
        str | None,
        typer.Option(help="Only these parts, comma-separated (e.g. network,data)."),
    ] = None,
    backup: Annotated[
        bool | None,
        typer.Option(
            "--backup/--no-backup",
            help="Snapshot the database before changing the data stack (asked when neither"
            " is given; taken with --yes).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    out_dir: OutOption = None,
) -> None:
    """Deploy the environment's stacks in dependency order (asks first in production)."""
    from health_platform.ops import deploy

    settings = one(env)
    parts = [p.strip() for p in stacks.split(",") if p.strip()] if stacks else None
    if deploy.changes_data(settings, parts):
        _before_data_changes(settings, backup, yes)
    elif deploy.changes_services(settings, parts):
        _awake_for_services(settings)
    deployed = deploy.apply(
        settings,
        out_dir or cdk_out_dir(),
        _synthesize_quietly,
        parts=parts,
        confirm=(lambda _: True) if yes else confirm,
    )
    out.print(f"[green]Deployed[/] {', '.join(deployed)}.")


def _awake_for_services(settings: EnvironmentSettings) -> None:
    """CloudFormation registers the services' task range again when it updates them, which
    would start tasks at night against a sleeping database: wake it first."""
    from health_platform.ops.backup import database_exists
    from health_platform.ops.office_hours import require_awake

    if settings.office_hours is None:
        return
    _, clients = aws(settings.name)
    if database_exists(settings, clients):
        require_awake(settings, clients, "change its services stack (tasks would start)")


def _before_data_changes(settings: EnvironmentSettings, backup: bool | None, yes: bool) -> None:
    """Before CloudFormation touches the database's stack, if the database exists: it must be
    awake (RDS modifies no stopped instance), and a manual snapshot is offered."""
    from health_platform.ops.backup import create_snapshot, database_exists
    from health_platform.ops.office_hours import require_awake

    _, clients = aws(settings.name)
    if not database_exists(settings, clients):
        return
    require_awake(
        settings, clients, "change its data and services stacks (RDS modifies no stopped instance)"
    )
    if backup is False:
        return
    if (
        backup is None
        and not yes
        and not confirm(
            "This changes the data stack. Take a manual snapshot of the database first?",
            unanswered="pass --backup or --no-backup",
        )
    ):
        return
    with err.status("Taking a snapshot of the database (minutes)…"):
        snapshot = create_snapshot(settings, clients, wait=True)
    out.print(f"Snapshot {snapshot.identifier} is {snapshot.status}.", highlight=False)


@app.command(
    "drift",
    epilog=exit_codes_help(ExitCode.FINDINGS, ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR),
)
def drift(env: AwsEnvArgument) -> None:
    """Whether what runs still matches the templates: CloudFormation's drift detection on
    every stack, with each drifted resource's properties (expected and actual)."""
    from health_platform.ops.drift import detect_drift
    from health_platform.ops.status import NOT_DEPLOYED

    settings, clients = aws(env)
    with err.status(f"Detecting drift in {settings.name}'s stacks…"):
        report = detect_drift(settings, clients)
    table(
        f"Drift of {settings.name}",
        ("stack", "region", "status", "reason"),
        [
            (s.name, s.region, mark(s.status in ("IN_SYNC", NOT_DEPLOYED), s.status), s.reason)
            for s in report.stacks
        ],
    )
    # One line per drifted property, not a table: paths and values stay whole for grep.
    for stack in report.stacks:
        for resource in stack.resources:
            where = f"{stack.name} {resource.logical_id} ({resource.resource_type})"
            if not resource.properties:
                out.print(Text(f"{resource.status}  {where}"), highlight=False)
            for change in resource.properties:
                out.print(
                    Text(
                        f"{resource.status}  {where} {change.path}: expected {change.expected},"
                        f" actual {change.actual}"
                    ),
                    highlight=False,
                )
    if not report.in_sync:
        out.print(
            f"[red]Drift found.[/] `hp infra apply {settings.name}` puts the templates' values"
            " back; or change the code to match what was changed by hand."
        )
        raise typer.Exit(ExitCode.FINDINGS)
    out.print(f"[green]{settings.name} matches its templates.[/]")


@app.command(
    "destroy",
    epilog=exit_codes_help(*AWS_CHANGE),
)
def destroy(env: AwsEnvArgument, yes: YesOption = False, out_dir: OutOption = None) -> None:
    """Delete the environment's stacks; stateful resources are retained. Refuses production."""
    from health_platform.ops import deploy

    def ask(question: str) -> bool:
        return yes or confirm(question)

    def announce(retained: Sequence[str]) -> None:
        for line in retained:
            out.print(f"  retained: {line}")

    kept = deploy.destroy(
        one(env), out_dir or cdk_out_dir(), _synthesize_quietly, confirm=ask, announce=announce
    )
    out.print(f"Destroyed {env}; {len(kept)} retained resource(s) remain and keep costing.")


@app.command(
    "status", epilog=exit_codes_help(ExitCode.FINDINGS, ExitCode.NO_CREDENTIALS, ExitCode.AWS_ERROR)
)
def status(env: AwsEnvArgument) -> None:
    """Stacks, services, targets, database, cache and alarms of a deployed environment."""
    show_status(env)


def show_status(env: str, *, local_too: bool = False) -> None:
    """Read and render an AWS environment's status (`hp status ENV` too, which takes local)."""
    from health_platform.ops.status import environment_status

    settings, clients = aws(env, local_too=local_too)
    with err.status(f"Reading {settings.name} from AWS…"):
        report = environment_status(settings, clients)
    render_status(report)


def render_status(report: EnvironmentStatus) -> None:
    table(
        "Stacks",
        ("stack", "region", "status", "reason"),
        [(s.name, s.region, mark(s.healthy, s.status), s.reason) for s in report.stacks],
    )
    table(
        "Services",
        ("service", "desired", "running", "pending", "deployment"),
        [
            (
                s.name,
                str(s.desired),
                mark(s.healthy, str(s.running)),
                str(s.pending),
                " ".join(filter(None, (s.rollout, s.rollout_reason))),
            )
            for s in report.services
        ],
    )
    table(
        "Targets",
        ("service", "target", "health", "reason"),
        [(t.service, t.target, mark(t.healthy, t.state), t.reason) for t in report.targets],
    )
    table(
        "Data",
        ("kind", "name", "status"),
        [
            (
                d.kind,
                d.name,
                mark(d.healthy, f"{d.status} (office hours)" if d.asleep else d.status),
            )
            for d in report.data
        ],
    )
    table(
        "Alarms in ALARM",
        ("alarm", "reason"),
        [(a.name, a.reason) for a in report.alarms],
    )
    outputs = [(s.name, k, v) for s in report.stacks for k, v in sorted(s.outputs.items())]
    if outputs:
        table("Outputs", ("stack", "output", "value"), outputs)
    verdict = "healthy" if report.healthy else "NOT healthy"
    out.print(mark(report.healthy, f"{report.environment} is {verdict}."))
    if not report.healthy:
        raise typer.Exit(ExitCode.FINDINGS)


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
            mark(r.passed, "pass" if r.passed else "FAIL"),
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
