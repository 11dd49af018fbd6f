"""`health-platform-<env>-data`: every stateful resource of an environment.

It exports a client security group instead of importing the services' one, so no stack
references the one deployed after it.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnOutput
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from health_platform.contract import DATABASE_PORT, REDIS_PORT
from health_platform.infra import naming
from health_platform.infra.data import database
from health_platform.infra.data.backup import DatabaseBackup
from health_platform.infra.data.backup_replication import AutomatedBackupReplication
from health_platform.infra.data.buckets import Buckets
from health_platform.infra.data.cache import Cache
from health_platform.infra.data.database import Database
from health_platform.infra.data.registry import ImageRepositories
from health_platform.infra.data.replication import (
    DisasterRecoveryRegion,
    ImageReplication,
    replicate_secret,
)
from health_platform.infra.data.restore_testing import RestoreTesting
from health_platform.infra.data.sleep import DatabaseSleep
from health_platform.infra.keys import customer_key
from health_platform.infra.log_groups import encrypted_log_group
from health_platform.infra.stacks.base import PlatformStack
from health_platform.infra.stacks.network import NetworkStack
from health_platform.settings import EnvironmentSettings


class DataStack(PlatformStack):
    part = naming.DATA

    def __init__(
        self, scope: Construct, settings: EnvironmentSettings, *, network: NetworkStack
    ) -> None:
        super().__init__(
            scope,
            settings,
            description="KMS, PostgreSQL, Redis, S3, ECR, AWS Backup (stateful, retained)",
            termination_protection=settings.name != "dev",
        )
        env = settings.name
        self.add_stack_dependency(network)
        self.key = customer_key(
            self,
            "DataKey",
            alias=f"alias/{naming.PROJECT}/{env}/data",
            description="Encrypts health data: database, cache, buckets, secrets, backups",
        )
        self.clients = ec2.SecurityGroup(
            self,
            "DataClients",
            vpc=network.vpc,
            description="Attach to tasks that may reach PostgreSQL and Redis",
            allow_all_outbound=False,
        )
        self.database = Database(
            self,
            "Database",
            identifier=naming.database_identifier(env),
            settings=settings.rds,
            vpc=network.vpc,
            subnets=network.database_subnets,
            rotation_subnets=network.private_subnets,
            # Secrets Manager for the rotation: the VPC's endpoint, or through the NAT.
            secrets_manager=(
                str(settings.network.vpc_cidr)
                if settings.network.interface_endpoints
                else database.ANYWHERE
            ),
            clients=self.clients,
            key=self.key,
            logs_key=network.logs_key,
            office_hours=settings.office_hours,
        )
        if settings.office_hours:
            DatabaseSleep(
                self,
                "DatabaseSleep",
                env=env,
                hours=settings.office_hours,
                instance=self.database.instance,
            )
        self.cache = Cache(
            self,
            "Cache",
            identifier=naming.cache_identifier(env),
            settings=settings.elasticache,
            vpc=network.vpc,
            subnets=network.database_subnets,
            clients=self.clients,
            key=self.key,
            logs_key=network.logs_key,
            log_retention_days=settings.rds.log_retention_days,
        )
        self.clients.add_egress_rule(
            self.database.security_group, ec2.Port.tcp(DATABASE_PORT), "to PostgreSQL"
        )
        self.clients.add_egress_rule(
            self.cache.security_group, ec2.Port.tcp(REDIS_PORT), "to Redis"
        )
        self.registry = ImageRepositories(self, "Registry", env=env, key=self.key)
        self.buckets = Buckets(self, "Buckets", env=env, key=self.key, dr_region=settings.dr_region)
        dr_vault_arn = (
            self.format_arn(
                service="backup",
                region=settings.dr_region,
                resource="backup-vault",
                resource_name=naming.dr_backup_vault_name(env),
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            if settings.dr_region
            else None
        )
        self.backup = DatabaseBackup(
            self,
            "Backup",
            vault_name=naming.resource_name(env),
            key=self.key,
            retention_days=settings.recovery_point_days,
            databases=[self.database.instance],
            dr_vault_arn=dr_vault_arn,
            office_hours=settings.office_hours,
        )
        self.restore_testing = RestoreTesting(
            self,
            "RestoreTesting",
            plan_name=naming.restore_testing_plan_name(env),
            vault=self.backup.vault,
            database=self.database.instance,
            subnet_group=self.database.subnet_group,
            vpc=network.vpc,
            retention_days=settings.recovery_point_days,
        )
        if settings.dr_region:
            self._disaster_recovery(
                network,
                DisasterRecoveryRegion(settings.dr_region, naming.dr_key_alias(env)),
            )
        self._outputs()

    def _disaster_recovery(self, network: NetworkStack, target: DisasterRecoveryRegion) -> None:
        """Keep the DR region within minutes of this one (RPO under an hour for a regional
        loss): database backups and transaction logs, images and the secrets the services
        read. Buckets replicate in Buckets; AWS Backup's daily copy stays as a second line."""
        env = self.settings.name
        self.backup_replication = AutomatedBackupReplication(
            self,
            "BackupReplication",
            instance=self.database.instance,
            target=target,
            retention_days=self.settings.rds.backup_retention_days,
            vpc=network.vpc,
            subnets=network.private_subnets,
            log_group=encrypted_log_group(
                self,
                "BackupReplicationLogs",
                name=f"/{naming.PROJECT}/{env}/dr-backup-replication",
                key=network.logs_key,
                retention_days=self.settings.rds.log_retention_days,
            ),
        )
        self.image_replication = ImageReplication(
            self,
            "ImageReplication",
            repository_prefix=naming.repository_prefix(env),
            target=target,
        )
        # The master secret too: the migration task reads it, and a database restored in the
        # DR region takes its current password (ModifyDBInstance MasterUserPassword, as the
        # drill does). The API signs in with IAM and needs none.
        replicate_secret(self.cache.auth_token, target)
        replicate_secret(self.database.secret, target)

    def _outputs(self) -> None:
        instance = self.database.instance
        outputs = {
            naming.Output.DATA_KEY: self.key.key_arn,
            naming.Output.DATA_CLIENTS_GROUP: self.clients.security_group_id,
            "DatabaseEndpoint": instance.db_instance_endpoint_address,
            "DatabasePort": instance.db_instance_endpoint_port,
            naming.Output.DATABASE_SECRET: self.database.secret.secret_arn,
            "CacheConfigurationEndpoint": (
                self.cache.replication_group.attr_configuration_end_point_address
            ),
            naming.Output.CACHE_AUTH_TOKEN_SECRET: self.cache.auth_token.secret_arn,
            "UploadsBucket": self.buckets.uploads.bucket_name,
            "StaticAssetsBucket": self.buckets.static_assets.bucket_name,
            "BackupsBucket": self.buckets.backups.bucket_name,
            "AlbLogsBucket": self.buckets.alb_logs.bucket_name,
            "BackupVaultName": self.backup.vault.backup_vault_name,
        }
        for service, repository in self.registry.repositories.items():
            outputs[naming.Output.repository_uri(service)] = repository.repository_uri
        if self.database.replica:
            outputs["DatabaseReplicaEndpoint"] = self.database.replica.db_instance_endpoint_address
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
