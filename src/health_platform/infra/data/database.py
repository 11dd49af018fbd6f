"""RDS PostgreSQL 15: Multi-AZ, encrypted, TLS-only, backed up, and a read replica in prod."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from health_platform.contract import DATABASE_NAME, DATABASE_PORT
from health_platform.infra.log_groups import encrypted_log_group
from health_platform.settings import DatabaseSettings

# 15.4 (the seed's) is retired and RDS no longer creates it; automatic minor upgrades move
# the instance forward from here.
ENGINE = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_15_17)
MASTER_USERNAME = "hp_admin"
LOG_EXPORTS = ("postgresql", "upgrade")

PARAMETERS = {
    "rds.force_ssl": "1",  # refuse unencrypted connections
    "ssl_min_protocol_version": "TLSv1.2",
    "log_min_duration_statement": "1000",  # slow statements: 1 s and above
    "log_connections": "1",
    "log_disconnections": "1",
    "log_statement": "ddl",  # schema changes are audit events; row data never is logged
}


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identifier: str,
        settings: DatabaseSettings,
        vpc: ec2.IVpc,
        subnets: list[ec2.ISubnet],
        clients: ec2.ISecurityGroup,
        key: kms.IKey,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="PostgreSQL from the data client security group only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            clients, ec2.Port.tcp(DATABASE_PORT), "PostgreSQL from application tasks"
        )
        self.parameter_group = rds.ParameterGroup(
            self,
            "Parameters",
            engine=ENGINE,
            description=f"{identifier}: TLS only, slow-statement and connection logging",
            parameters=PARAMETERS,
        )
        # One subnet group for the primary and its replica.
        self.subnet_group = rds.SubnetGroup(
            self,
            "SubnetGroup",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=subnets),
            description=f"{identifier}: database subnets",
            removal_policy=RemovalPolicy.RETAIN,
        )
        shared: dict[str, Any] = {
            "instance_type": ec2.InstanceType(settings.instance_class.removeprefix("db.")),
            "vpc": vpc,
            "subnet_group": self.subnet_group,
            "security_groups": [self.security_group],
            "publicly_accessible": False,
            "parameter_group": self.parameter_group,
            "cloudwatch_logs_exports": list(LOG_EXPORTS),
            "monitoring_interval": Duration.seconds(60),
            "enable_performance_insights": True,
            "performance_insight_encryption_key": key,
            "auto_minor_version_upgrade": True,
            "ca_certificate": rds.CaCertificate.RDS_CA_RSA2048_G1,
            # The replica's storage as the primary's: a replica does not take the source's
            # storage type or autoscaling, and one that fills up stops replicating.
            "storage_type": rds.StorageType.GP3,
            "max_allocated_storage": settings.max_allocated_storage_gib,
            "deletion_protection": settings.deletion_protection,
            "removal_policy": RemovalPolicy.RETAIN,
        }
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=ENGINE,
            instance_identifier=identifier,
            database_name=DATABASE_NAME,
            port=DATABASE_PORT,
            # RDS generates, stores and rotates the master password in Secrets Manager.
            manage_master_user_password=True,
            credentials=rds.Credentials.from_username(MASTER_USERNAME, encryption_key=key),
            multi_az=settings.multi_az,
            allocated_storage=settings.allocated_storage_gib,
            storage_encrypted=True,
            storage_encryption_key=key,
            backup_retention=Duration.days(settings.backup_retention_days),
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            iam_authentication=True,
            **shared,
        )
        self._log_groups(
            "Instance", self.instance, identifier, logs_key, settings.log_retention_days
        )
        self.replica: rds.DatabaseInstanceReadReplica | None = None
        if settings.read_replica:
            self.replica = rds.DatabaseInstanceReadReplica(
                self,
                "ReadReplica",
                source_database_instance=self.instance,
                instance_identifier=f"{identifier}-replica",
                # Encrypted with the primary's key; CloudFormation refuses StorageEncrypted
                # on a replica in the same region.
                **shared,
            )
            self._log_groups(
                "ReadReplica",
                self.replica,
                f"{identifier}-replica",
                logs_key,
                settings.log_retention_days,
            )

    def _log_groups(
        self,
        prefix: str,
        instance: rds.DatabaseInstanceBase,
        identifier: str,
        key: kms.IKey,
        days: int,
    ) -> None:
        """Create the groups RDS exports into before the instance does, so they are encrypted
        and keep logs for the environment's retention instead of forever."""
        for export in LOG_EXPORTS:
            group = encrypted_log_group(
                self,
                f"{prefix}{export.capitalize()}Logs",
                name=f"/aws/rds/instance/{identifier}/{export}",
                key=key,
                retention_days=days,
            )
            instance.node.default_child.node.add_dependency(group)  # type: ignore[union-attr]
