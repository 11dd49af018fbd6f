"""`hp dr drill ENV` on AWS: restore the database to a point in time into a temporary instance,
prove it usable with a one-off task, measure RPO and RTO, delete what the drill made, and
check the other copies (AWS Backup, and in production the DR region's).

In this order, and nothing is created before the inputs are known to be good:
1. read the database and its restore window; refuse a --to outside it; read where tasks run;
2. delete the temporary databases of earlier drills that died (found by name and tag);
3. restore, wait until available, give it the master password the task signs in with, run
   the verification task: RTO is the time from the restore call to the task's success;
4. delete the temporary database, whatever happened in 3 (a finding says how it went);
5. the recovery points and copies, each check independent of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, stack_outputs
from health_platform.ops.dr import copies
from health_platform.ops.dr.restore import (
    Source,
    align_master_password,
    check_target,
    delete_instance,
    delete_leftovers,
    describe_source,
    iso,
    restore,
    restore_window,
    wait_until_available,
)
from health_platform.ops.dr.verify import run_verification, schema_finding, task_finding
from health_platform.ops.tasks import migration_task_definition, task_network
from health_platform.recovery import SEED_RTO_SECONDS, SEED_TARGETS, DrillReport, Finding
from health_platform.settings import EnvironmentSettings

# Waiting for the restore past the RTO target tells nothing more: it has missed it.
DEFAULT_TIMEOUT = float(SEED_RTO_SECONDS)
VERIFY_TIMEOUT = 1800.0  # exact counts of every table of a large database take a while
POLL_SECONDS = 30.0  # botocore's DBInstanceAvailable waiter polls as often

Progress = Callable[[str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def drill_aws(
    settings: EnvironmentSettings,
    clients: ClientFactory,
    *,
    to: datetime | None,
    progress: Progress,
    now: Callable[[], datetime] = _utcnow,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    timeout_seconds: float = DEFAULT_TIMEOUT,
    task_timeout_seconds: float = VERIFY_TIMEOUT,
    poll_seconds: float = POLL_SECONDS,
) -> DrillReport:
    """Drill a restore of `settings`' database to `to` (zone-aware), or to the latest
    restorable time. Raises InvalidInputError (a --to outside the restore window),
    RefusedError (no automated backups), AwsError, TimedOutError (the restore or the task
    outlived its timeout; the temporary database is deleted all the same). A restore that
    fails verification is a report that is not verified, not an exception."""
    env = settings.name
    started = now()
    source = describe_source(settings, clients)
    check_target(to, restore_window(settings, clients, source))
    # Read before anything is created: a services stack not deployed stops the drill here.
    network = task_network(settings, clients)
    task_definition = migration_task_definition(settings, clients)

    report = DrillReport(
        environment=env,
        target=to.isoformat() if to else "latest",
        started_at=started,
        targets=SEED_TARGETS,
    )
    _measure_rpo(report, source, started)
    leftovers = delete_leftovers(settings, clients, progress)
    if leftovers:
        report.findings.append(leftovers)

    identifier = naming.drill_database_identifier(env, f"{started.astimezone(UTC):%Y%m%d%H%M%S}")
    rds = clients("rds", settings.region)
    try:
        began = clock()
        progress(
            f"Restoring {source.identifier} to {report.target} into {identifier}"
            f" ({source.instance_class}, subnet group {source.subnet_group})"
        )
        restore(settings, clients, source, identifier, to)
        wait = partial(
            wait_until_available,
            rds,
            identifier,
            deadline=began + timeout_seconds,
            timeout=timeout_seconds,
            progress=progress,
            sleep=sleep,
            clock=clock,
            interval=poll_seconds,
        )
        wait(doing="the restore")
        progress(f"Setting the master password of {identifier} to the master secret's")
        align_master_password(settings, clients, source, identifier)
        instance = wait(doing="the master password change")
        progress(f"Verifying {identifier} with a one-off task")
        verification = run_verification(
            settings,
            clients,
            host=instance["Endpoint"]["Address"],
            task_definition=task_definition,
            network=network,
            progress=progress,
            timeout_s=task_timeout_seconds,
            sleep=sleep,
            clock=clock,
        )
        if verification.succeeded:
            report.rto_seconds = clock() - began
        report.tables = verification.tables
        report.findings += [task_finding(verification), schema_finding(verification, latest=not to)]
    finally:
        progress(f"Deleting {identifier}")
        deleted = delete_instance(rds, env, identifier)
        progress(deleted.detail)
    report.findings.append(deleted)

    progress(
        "Checking the backups"
        + (f" and the copies in {settings.dr_region}" if settings.dr_region else "")
    )
    report.findings += _protection(report, settings, clients, source, now())
    report.notes += _notes(report, source)
    return report


def _measure_rpo(report: DrillReport, source: Source, at: datetime) -> None:
    if source.latest_restorable is None:
        report.notes.append("RPO not measured: RDS reports no latest restorable time.")
        return
    report.rpo_seconds = max(0.0, (at - source.latest_restorable).total_seconds())
    report.notes.append(
        f"RPO: the drill's start ({iso(at)}) minus the database's latest restorable"
        f" time ({iso(source.latest_restorable)}): the writes a loss of the database"
        " now would lose (RDS archives its transaction log about every 5 minutes)."
    )


def _protection(
    report: DrillReport,
    settings: EnvironmentSettings,
    clients: ClientFactory,
    source: Source,
    at: datetime,
) -> list[Finding]:
    findings = [
        copies.checked(
            "AWS Backup recovery point",
            lambda: copies.recovery_points(settings, clients, source, at),
        )
    ]
    dr = settings.dr_region
    if not dr:
        return findings

    def dr_backups() -> Finding:
        finding, lag = copies.replicated_backups(
            settings, clients, source, at, report.targets.rpo_seconds
        )
        if lag is not None:
            report.notes.append(
                f"RPO in {dr}: {lag:.0f} s, the drill's checks' time minus the latest time the"
                f" automated backups replicated to {dr} restore to: what losing"
                f" {settings.region} entirely now would lose."
            )
        return finding

    return [
        *findings,
        copies.checked(
            f"AWS Backup copy in {dr}", lambda: copies.dr_copies(settings, clients, source, at)
        ),
        copies.checked(
            f"uploads replicated to {dr}", lambda: copies.uploads_replication(settings, clients)
        ),
        copies.checked(f"automated backups replicated to {dr}", dr_backups),
        copies.checked(
            f"images replicated to {dr}", lambda: copies.images_replicated(settings, clients)
        ),
        copies.checked(
            f"secrets replicated to {dr}",
            lambda: copies.secrets_replicated(
                settings, clients, replicated_secrets(settings, clients, source)
            ),
        ),
    ]


def replicated_secrets(
    settings: EnvironmentSettings, clients: ClientFactory, source: Source
) -> dict[str, str]:
    """The secrets with a replica in the DR region: the master password and Redis' token."""
    outputs = stack_outputs(clients, settings.name, naming.DATA, settings.region)
    return {
        "database master secret": source.master_secret_arn,
        "Redis auth token": outputs[naming.Output.CACHE_AUTH_TOKEN_SECRET],
    }


def _notes(report: DrillReport, source: Source) -> list[str]:
    return [
        "RTO: from the restore request to the verification task's success: the restore until"
        " RDS says available, the master password change, and the task (start, connect,"
        " count). A real recovery also repoints the services, which is not measured."
        + (
            "" if report.rto_seconds is not None else " Not measured: the restore was not verified."
        ),
        f"Restored as {source.instance_class} (the database's own class), single-AZ, without"
        " backups, in the database's subnet group and security groups; deleted at the end.",
        "Tables: exact row counts of every table in the restored database's public schema;"
        " AWS keeps no reference to compare them with, so no rows are expected.",
    ]
