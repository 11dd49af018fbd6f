"""AWS Backup for the database: a daily recovery point in an encrypted vault, copied to the
disaster-recovery region's vault in production."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, TimeZone
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from health_platform.office_hours import (
    AWS_BACKUP_COMPLETION_WINDOW,
    AWS_BACKUP_START,
    AWS_BACKUP_START_WINDOW,
    OfficeHours,
)


class DatabaseBackup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vault_name: str,
        key: kms.IKey,
        retention_days: int,
        databases: list[rds.IDatabaseInstance],
        dr_vault_arn: str | None,
        office_hours: OfficeHours | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=vault_name,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        copy_actions = []
        if dr_vault_arn:
            copy_actions.append(
                backup.BackupPlanCopyActionProps(
                    destination_backup_vault=backup.BackupVault.from_backup_vault_arn(
                        self, "DisasterRecoveryVault", dr_vault_arn
                    ),
                    move_to_cold_storage_after=None,
                    delete_after=Duration.days(retention_days),
                )
            )
        timing = _daily(office_hours)
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=vault_name,
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="daily",
                    delete_after=Duration.days(retention_days),
                    copy_actions=copy_actions,
                    schedule_expression=timing.schedule,
                    schedule_expression_timezone=timing.time_zone,
                    start_window=timing.start_window,
                    completion_window=timing.completion_window,
                )
            ],
        )
        self.plan.add_selection(
            "Databases",
            resources=[backup.BackupResource.from_rds_database_instance(db) for db in databases],
            allow_restores=True,
        )


@dataclass(frozen=True)
class Timing:
    schedule: events.Schedule
    time_zone: TimeZone | None
    start_window: Duration
    completion_window: Duration


def _daily(hours: OfficeHours | None) -> Timing:
    """When the daily job runs: at 05:00 UTC, after RDS's automated backup window; or, for a
    database stopped outside office hours (AWS Backup cannot snapshot a stopped instance),
    on office days by the zone's clock, done before the day ends."""
    if hours is None:
        return Timing(
            events.Schedule.cron(minute="0", hour="5"), None, Duration.hours(1), Duration.hours(4)
        )
    minute, hour, days = hours.cron_fields(hours.opens + AWS_BACKUP_START)
    return Timing(
        events.Schedule.cron(minute=minute, hour=hour, week_day=days),
        TimeZone.of(hours.time_zone),
        Duration.seconds(AWS_BACKUP_START_WINDOW.total_seconds()),
        Duration.seconds(AWS_BACKUP_COMPLETION_WINDOW.total_seconds()),
    )
