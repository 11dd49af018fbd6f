"""AWS Backup for the database: a daily recovery point in an encrypted vault, copied to the
disaster-recovery region's vault in production."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct


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
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=vault_name,
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="daily",
                    # 05:00 UTC, after the RDS automated backup window.
                    schedule_expression=events.Schedule.cron(minute="0", hour="5"),
                    start_window=Duration.hours(1),
                    completion_window=Duration.hours(4),
                    delete_after=Duration.days(retention_days),
                    copy_actions=copy_actions,
                )
            ],
        )
        self.plan.add_selection(
            "Databases",
            resources=[backup.BackupResource.from_rds_database_instance(db) for db in databases],
            allow_restores=True,
        )
