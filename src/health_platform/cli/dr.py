"""`hp dr drill ENV`: restore the backups somewhere harmless, verify the restore, measure
RPO and RTO against the targets, clean up, and write a report (Markdown and JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from health_platform.cli.common import EnvArgument, StateDir, aws, command_group, err, is_local, out
from health_platform.errors import ExitCode, exit_codes_help
from health_platform.paths import drill_reports_dir

if TYPE_CHECKING:
    from health_platform.recovery import DrillReport

app = command_group(help="Disaster recovery: drills.", no_args_is_help=True)


@app.command(
    "drill",
    epilog=exit_codes_help(
        ExitCode.FINDINGS,
        ExitCode.NO_CREDENTIALS,
        ExitCode.AWS_ERROR,
        ExitCode.LOCAL_FAILURE,
        ExitCode.TIMED_OUT,
        extra="1: the restore did not verify, or missed its RPO or RTO target.",
    ),
)
def drill(
    env: EnvArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Restore to this time (2026-11-30T14:05:00Z) instead of the latest point.",
            show_default=False,
        ),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the JSON report here.", show_default=False),
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Restore the latest recovery point (or `--to` a time) into a scratch database while
    the platform runs, verify it, measure RPO and RTO, and delete what it made.

    **local**: a scratch PostgreSQL on its own port, compared table by table (rows and a
    checksum) with the primary at the recovery point, every document checked by SHA-256.
    **AWS**: a temporary RDS instance restored to a point in time in the database's subnets,
    verified by a one-off task; S3 replication and AWS Backup's copies checked too.

    Reports (Markdown and JSON) go to the backups folder's `drills/` (local) or the
    checkout's `reports/drills/` (AWS), besides `--json`."""
    from health_platform.local.restore import parse_target

    target = parse_target(to) if to else None
    progress = lambda text: err.print(f"  {text}", highlight=False)  # noqa: E731
    if is_local(env):
        from health_platform.local.drill import drill as run
        from health_platform.local.platform import database_errors, saved_config

        config = saved_config(state_dir)
        with database_errors("drilling"):
            report = run(config, to=target, progress=progress)
        folder = config.backups_dir / "drills"  # kept with the backups, through a reset
    else:
        from health_platform.ops.dr_drill import drill_aws

        settings, clients = aws(env, local_too=True)
        report = drill_aws(settings, clients, to=target, progress=progress)
        folder = drill_reports_dir()
    _write(report, folder, json_file)
    if not report.meets_targets:
        raise typer.Exit(ExitCode.FINDINGS)


def _write(report: DrillReport, folder: Path, json_file: Path | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"drill-{report.environment}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    markdown = report.as_markdown()
    stem.with_suffix(".md").write_text(markdown)
    stem.with_suffix(".json").write_text(report.as_json())
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(report.as_json())
    out.print(markdown, markup=False, highlight=False)
    out.print(f"Report: {stem}.md and .json" + (f", and {json_file}" if json_file else ""))
