"""`hp release ENV`: build, push, migrate, roll the services through CloudFormation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from health_platform.cli import common
from health_platform.cli.common import (
    AwsEnvArgument,
    YesOption,
    command_group,
    confirm,
    err,
    one,
    out,
    table,
)
from health_platform.errors import ExitCode, RefusedError, exit_codes_help

if TYPE_CHECKING:
    from health_platform.ops.docker import Docker
    from health_platform.ops.release import ReleasePlan
    from health_platform.settings import EnvironmentSettings

app = command_group()


@app.command(
    "release",
    epilog=exit_codes_help(
        ExitCode.TOOLCHAIN,
        ExitCode.NO_CREDENTIALS,
        ExitCode.AWS_ERROR,
        ExitCode.REFUSED,
        ExitCode.TIMED_OUT,
        extra="--plan exits 4 without credentials, after printing what it can.",
    ),
)
def release(
    env: AwsEnvArgument,
    service: Annotated[str, typer.Option("--service", help="backend, frontend or all.")] = "all",
    image_tag: Annotated[
        str | None,
        typer.Option("--image-tag", help="Release images already in ECR under this tag."),
    ] = None,
    allow_dirty: Annotated[
        bool,
        typer.Option("--allow-dirty", help="Build from uncommitted changes (a one-off tag)."),
    ] = False,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="Return to the previous release's tags (no migrations)."),
    ] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan", help="Print what it would do; change nothing.")
    ] = False,
    history: Annotated[
        bool, typer.Option("--history", help="List the environment's releases, newest first.")
    ] = False,
    timeout: Annotated[
        int, typer.Option("--timeout", help="Seconds to wait for each task and the rollout.")
    ] = 1800,
    no_rollout: Annotated[
        bool,
        typer.Option(
            "--no-rollout",
            help="Push, migrate and set the tags, then stop: `hp infra apply` rolls them out"
            " with the template of the same commit.",
        ),
    ] = False,
    yes: YesOption = False,
) -> None:
    """Ship the application: images, then migrations, then the services.

    Builds and pushes each image under the last commit that changed its files (reusing
    one already in ECR), runs the migrations with the new backend image as a one-off
    task, then rolls the services through CloudFormation.

    A failed migration leaves the services untouched; a rollout that fails or times out
    puts the release parameters back and prints the stopped tasks' reasons and last log
    lines. `--rollback` returns to the previous release's images; database migrations are
    not reversed.
    """
    import boto3

    from health_platform.ops.aws import require_credentials
    from health_platform.ops.docker import Docker
    from health_platform.ops.release import ReleaseError, execute, plan_release, services_named

    if history:
        _show_history(env)
        return
    settings = one(env)
    services = services_named(service)
    session = boto3.Session()
    if not plan_only:
        require_credentials(session)
    has_credentials = session.get_credentials() is not None
    clients = common.clients_of(session) if has_credentials else None
    plan = plan_release(
        settings,
        clients,
        services=services,
        image_tag=image_tag,
        allow_dirty=allow_dirty,
        rollback=rollback,
        planning=plan_only,
    )
    docker = Docker()
    if plan_only:
        _show_plan(settings, plan, docker)
        require_credentials(session)  # without them: exit 4, after what could be planned
        return
    assert clients is not None  # required above
    if (
        settings.is_production
        and not yes
        and not confirm(
            f"Release {', '.join(f'{s} {t}' for s, t in plan.tags.items())} to PRODUCTION?"
        )
    ):
        raise RefusedError("Nothing released.")
    try:
        entry = execute(
            settings,
            clients,
            plan,
            docker=docker,
            on_step=lambda text: err.print(text, highlight=False, markup=False),
            on_log=lambda line: err.print(f"  {line}", highlight=False, markup=False),
            timeout_s=timeout,
            rollout=not no_rollout,
        )
    except ReleaseError as failed:
        for line in failed.diagnostics:
            err.print(line, highlight=False, markup=False)
        raise
    tags = ", ".join(f"{s} {t}" for s, t in entry.tags.items())
    verb = "Rolled back" if rollback else "Released"
    out.print(f"[green]{verb}[/] {tags} to {settings.name}.", highlight=False)
    if rollback:
        out.print("Database migrations were not reversed.")


def _show_history(env: str) -> None:
    from health_platform.ops.release import read_history

    settings, clients = common.aws(env)
    table(
        f"Releases of {settings.name}",
        ("when (UTC)", "outcome", "tags", "commit", "by"),
        [
            (e.at, e.outcome, ", ".join(f"{s} {t}" for s, t in e.tags.items()), e.commit, e.by)
            for e in read_history(settings, clients)
        ],
    )


def _show_plan(settings: EnvironmentSettings, plan: ReleasePlan, docker: Docker) -> None:
    out.print(f"Release plan for {settings.name} ({settings.region}):", highlight=False)
    for number, step in enumerate(plan.steps, 1):
        out.print(f"  {number}. {step}", highlight=False, markup=False)
    if plan.build:
        found = (
            "found"
            if docker.available()
            else "not found: build elsewhere, then release those images with --image-tag TAG"
        )
        out.print(f"  Docker: {found}", highlight=False)
    for note in plan.notes:
        out.print(f"  note: {note}", highlight=False, markup=False)
