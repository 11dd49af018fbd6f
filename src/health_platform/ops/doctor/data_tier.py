"""The database (status, the replica's, connections, free storage) and the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from health_platform.checks import Check
from health_platform.infra import naming
from health_platform.ops.doctor.environment import Environment
from health_platform.ops.office_hours import ASLEEP

DATABASE_WINDOW = timedelta(minutes=15)
STORAGE_WARN_FREE = 0.20
STORAGE_FAIL_FREE = 0.10
GIB = 1024**3
# Database states that pass by themselves; any other but "available" needs a person.
DATABASE_BUSY = frozenset(
    {
        "backing-up", "configuring-enhanced-monitoring", "configuring-log-exports", "creating",
        "maintenance", "modifying", "rebooting", "renaming", "resetting-master-credentials",
        "starting", "storage-optimization", "upgrading",
    }
)  # fmt: skip
CACHE_BUSY = frozenset({"creating", "modifying", "snapshotting"})


def check_databases(e: Environment) -> list[Check]:
    identifiers = [naming.database_identifier(e.env)]
    if e.settings.rds.read_replica:
        identifiers.append(naming.replica_identifier(e.env))
    checks = []
    for identifier in identifiers:
        instance = e.primary_database if identifier == identifiers[0] else e.database(identifier)
        if instance is None:
            checks.append(Check("database", identifier, "fail", "does not exist", e.apply_hint))
            continue
        status = instance["DBInstanceStatus"]
        asleep = _asleep(e, status)
        if status == "available":
            checks.append(Check("database", identifier, "pass", status))
        elif asleep is not None:
            checks.append(asleep)
        elif status in DATABASE_BUSY:
            hint = f"wait for it to become available (`hp status {e.env}`)"
            checks.append(Check("database", identifier, "warn", status, hint))
        else:
            hint = "read its events: aws rds describe-events --source-type db-instance" + (
                f" --source-identifier {identifier}"
            )
            checks.append(Check("database", identifier, "fail", status, hint))
    primary = e.primary_database
    if primary is not None and primary["DBInstanceStatus"] not in ASLEEP:
        checks += _database_metrics(e, primary)
    return checks


def _asleep(e: Environment, status: str) -> Check | None:
    """A database stopped by its office hours: expected outside them (pass), a failed
    scheduled start inside them (fail). None: no office hours, or not stopped."""
    hours = e.settings.office_hours
    if hours is None or status not in ASLEEP:
        return None
    identifier = naming.database_identifier(e.env)
    if not hours.database_runs_at(datetime.now(UTC)):
        detail = f"{status} outside office hours ({hours.describe()})"
        return Check("database", identifier, "pass", detail, f"`hp wake {e.env}` starts it early")
    return Check(
        "database",
        identifier,
        "fail",
        f"{status} within office hours ({hours.describe()})",
        f"`hp wake {e.env}`; then read the target errors of the schedule group"
        f" {naming.office_hours_group(e.env, 'start')} (CloudWatch, AWS/Scheduler)",
    )


def _database_metrics(e: Environment, instance: dict[str, Any]) -> list[Check]:
    identifier = instance["DBInstanceIdentifier"]

    def rds(metric: str, statistic: str) -> tuple[str, str, str, str, str]:
        return ("AWS/RDS", metric, "DBInstanceIdentifier", identifier, statistic)

    values = e.metrics(
        DATABASE_WINDOW,
        {
            "connections": rds("DatabaseConnections", "Maximum"),
            "free": rds("FreeStorageSpace", "Minimum"),
        },
    )
    no_data = f"wait a few minutes for CloudWatch (`hp status {e.env}` shows the instance)"
    checks = []
    if values.get("connections"):
        detail = f"{max(values['connections']):.0f} at most in the last 15 minutes"
        checks.append(Check("database", "connections", "pass", detail))
    else:
        detail = "no datapoint in the last 15 minutes"
        checks.append(Check("database", "connections", "warn", detail, no_data))
    if not values.get("free"):
        detail = "no datapoint in the last 15 minutes"
        checks.append(Check("database", "free storage", "warn", detail, no_data))
        return checks
    allocated = float(instance["AllocatedStorage"]) * GIB
    free = min(values["free"])
    share = free / allocated if allocated else 0.0
    detail = f"{free / GIB:.1f} GiB free of {allocated / GIB:.0f} GiB ({share:.0%})"
    hint = (
        f"raise rds.max_allocated_storage_gib in environments/{e.env}.yaml (storage grows"
        f" automatically up to it), then `hp infra apply {e.env}`"
    )
    if share < STORAGE_FAIL_FREE:
        checks.append(Check("database", "free storage", "fail", detail, hint))
    elif share < STORAGE_WARN_FREE:
        checks.append(Check("database", "free storage", "warn", detail, hint))
    else:
        checks.append(Check("database", "free storage", "pass", detail))
    return checks


def check_cache(e: Environment) -> list[Check]:
    identifier = naming.cache_identifier(e.env)
    if e.cache is None:
        return [Check("cache", identifier, "fail", "does not exist", e.apply_hint)]
    status = e.cache["Status"]
    if status == "available":
        return [Check("cache", identifier, "pass", status)]
    if status in CACHE_BUSY:
        hint = f"wait for it to become available (`hp status {e.env}`)"
        return [Check("cache", identifier, "warn", status, hint)]
    hint = "read its events: aws elasticache describe-events --source-type replication-group"
    return [Check("cache", identifier, "fail", status, f"{hint} --source-identifier {identifier}")]
