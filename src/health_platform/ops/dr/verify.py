"""The check that a restored database is usable: a one-off task of the backend's image that
connects to it as the migration does and reports its schema version and row counts
(api/verify_restore.py), read back from the task's log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from health_platform.contract import MIGRATION
from health_platform.ops.aws import ClientFactory
from health_platform.ops.tasks import TaskNetwork, TaskRun, run_task
from health_platform.recovery import Finding, TableResult
from health_platform.settings import EnvironmentSettings

# Run in the migration's container: its task definition has the owner's credentials (the
# primary's master secret) and the database's TLS settings; only the host differs, and a
# host is no secret, so it rides on the command line (ECS shows overrides to anyone who
# may describe the task).
VERIFY_COMMAND = ("python", "-m", "health_platform.api.verify_restore")
LOG_TAIL = 5  # lines of a failed task's log in its finding


@dataclass(frozen=True)
class Verification:
    run: TaskRun
    output: dict[str, Any] | None  # the task's JSON line, if it printed one
    log: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.run.exit_code == 0 and self.output is not None

    @property
    def tables(self) -> list[TableResult]:
        counts: dict[str, int] = (self.output or {}).get("tables", {})
        return [TableResult(name, int(rows)) for name, rows in sorted(counts.items())]


def verify_command(host: str) -> list[str]:
    return [*VERIFY_COMMAND, "--host", host]


def run_verification(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    host: str,
    task_definition: str,
    network: TaskNetwork,
    progress: Callable[[str], None],
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verification:
    log: list[str] = []

    def on_log(line: str) -> None:
        log.append(line)
        if _report_in(line) is None:  # the JSON line becomes the report, not chatter
            progress(f"  {line}")

    run = run_task(
        settings,
        clients,
        task_definition=task_definition,
        container=MIGRATION,
        network=network,
        on_log=on_log,
        timeout_s=timeout_s,
        command=verify_command(host),
        sleep=sleep,
        clock=clock,
    )
    output = next((r for r in map(_report_in, reversed(log)) if r is not None), None)
    return Verification(run, output, log)


def _report_in(line: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "tables" in parsed else None


def task_finding(verification: Verification) -> Finding:
    name = "verification task"
    if verification.succeeded:
        tables = verification.tables
        rows = sum(t.rows for t in tables)
        return Finding(
            name,
            True,
            f"{verification.run.summary}: read {len(tables)} tables, {rows} rows in all",
        )
    said = " | ".join(verification.log[-LOG_TAIL:]) or "it wrote no log"
    missing = "" if verification.output is not None else "; it printed no report"
    return Finding(name, False, f"{verification.run.summary}{missing}; its last lines: {said}")


def schema_finding(verification: Verification, *, latest: bool) -> Finding:
    """The restored schema against the release's migrations (those of the image the task ran):
    a restore to the latest time must be at their head; one to an earlier time may be at an
    earlier revision of theirs (it then needs `hp db migrate` before the release serves it)."""
    name = "schema version"
    output = verification.output or {}
    version, head = output.get("schema_version"), output.get("head_revision")
    if not verification.succeeded:
        return Finding(name, False, "not read: the verification task failed")
    if version is None:
        return Finding(name, False, "the restored database has no alembic_version: not migrated")
    if version == head:
        return Finding(name, True, f"{version}, the release's head revision")
    if not latest and output.get("schema_known"):
        return Finding(
            name,
            True,
            f"{version}, an earlier revision of the release (head {head}): the restored"
            " database needs its migrations before this release can serve from it",
        )
    return Finding(name, False, f"{version}, but the release's head revision is {head}")
