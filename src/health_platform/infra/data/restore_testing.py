"""The monthly restore test: AWS Backup restores the newest recovery point of the database
into a throwaway instance, keeps it for the validation window, and deletes it. A failed
restore is an alert (observability/backup_events.py), so a backup that cannot be restored is
found within a month, not during a disaster.

AWS Backup infers most restore settings but would put the instance in the default VPC,
which this account's environments may not have; the overrides place it in the database's
own subnets, behind a security group that admits nothing. List-valued overrides are
JSON-array strings (AWS Backup's restore metadata is a map of strings).
"""

from __future__ import annotations

from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

# 10:00 UTC on the 1st of every month: after that day's 05:00 backup and its 4-hour window.
# Where backups are taken on office days only (data/backup.py), the newest recovery point
# is kept over the weekend (EnvironmentSettings.recovery_point_days), so one is in the
# selection window whatever day the 1st is.
MONTHLY = "cron(0 10 1 * ? *)"
START_WINDOW_HOURS = 8
# How long the restored instance is kept for checks (`hp dr drill`, a person) before AWS
# Backup deletes it; AWS Backup accepts 0-168.
VALIDATION_WINDOW_HOURS = 4
MAX_SELECTION_WINDOW_DAYS = 7


class RestoreTesting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan_name: str,
        vault: backup.IBackupVault,
        database: rds.DatabaseInstance,
        subnet_group: rds.ISubnetGroup,
        vpc: ec2.IVpc,
        retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Databases restored by the monthly restore test: no traffic at all",
            allow_all_outbound=False,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="AWS Backup restores the database for the monthly restore test",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSBackupServiceRolePolicyForRestores"
                )
            ],
        )
        self.plan = backup.CfnRestoreTestingPlan(
            self,
            "Plan",
            restore_testing_plan_name=plan_name,
            schedule_expression=MONTHLY,
            start_window_hours=START_WINDOW_HOURS,
            recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[vault.backup_vault_arn],
                # The backup plan takes snapshots; continuous backups are not enabled.
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=min(retention_days, MAX_SELECTION_WINDOW_DAYS),
            ),
        )
        self.selection = backup.CfnRestoreTestingSelection(
            self,
            "Database",
            restore_testing_plan_name=self.plan.ref,
            restore_testing_selection_name="database",
            protected_resource_type="RDS",
            protected_resource_arns=[database.instance_arn],
            iam_role_arn=self.role.role_arn,
            validation_window_hours=VALIDATION_WINDOW_HOURS,
            restore_metadata_overrides={
                "dbSubnetGroupName": subnet_group.subnet_group_name,
                "vpcSecurityGroupIds": f'["{self.security_group.security_group_id}"]',
            },
        )
