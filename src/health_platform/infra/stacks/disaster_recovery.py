"""`health-platform-<env>-dr`, production only, in the DR region: where the primary region's
uploads and backups replicate, where AWS Backup copies database recovery points, and what
the replicas of the database's automated backups, the secrets and the images are encrypted
with (the data stack starts those replications).

Everything here has a name the data stack can compute (bucket names, key alias, vault name),
because CloudFormation cannot reference a stack in another region.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_iam as iam
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data import retention
from health_platform.infra.data.buckets import private_bucket
from health_platform.infra.data.registry import ReplicaRepositoryTemplate
from health_platform.infra.keys import customer_key
from health_platform.infra.stacks.base import PlatformStack
from health_platform.settings import EnvironmentSettings

# The DR region's copies are kept as long as the originals.
REPLICA_RETENTION = {"uploads": retention.HEALTH_DATA, "backups": retention.BACKUPS}


class DisasterRecoveryStack(PlatformStack):
    part = naming.DISASTER_RECOVERY

    def __init__(self, scope: Construct, settings: EnvironmentSettings, *, region: str) -> None:
        super().__init__(
            scope,
            settings,
            region=region,
            description=f"disaster-recovery copies in {region} (stateful, retained)",
            termination_protection=True,
        )
        env, account = settings.name, settings.account
        self.key = customer_key(
            self,
            "DisasterRecoveryKey",
            alias=naming.dr_key_alias(env),
            description="Encrypts the disaster-recovery copies of health data",
        )
        # Secrets Manager re-encrypts each new value of a replicated secret under this key as
        # the principal that wrote it (a forward access session): for the master secret, the
        # rotation function, whose role AWS's application grants only the data key. Any
        # principal of this account, and only through Secrets Manager, may encrypt with it.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSecretReplicasOfThisAccount",
                principals=[iam.AnyPrincipal()],
                actions=["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"},
                },
            )
        )
        access_logs = private_bucket(
            self,
            "AccessLogs",
            name=naming.bucket_name(env, "dr-access-logs", account),
            key=None,
            access_logs=None,
            retention=retention.LOGS,
        )
        self.replicas = {
            purpose: private_bucket(
                self,
                f"{purpose.capitalize()}Replica",
                name=naming.bucket_name(env, f"{purpose}-replica", account),
                key=self.key,
                access_logs=access_logs,
                retention=kept,
            )
            for purpose, kept in (
                ("uploads", retention.HEALTH_DATA),
                ("backups", retention.BACKUPS),
            )
        }
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=naming.dr_backup_vault_name(env),
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Before the data stack turns registry replication on (it deploys after this one), so
        # the first replicated repository is already created from it.
        self.image_template = ReplicaRepositoryTemplate(
            self, "ImageRepositories", prefix=naming.repository_prefix(env), key=self.key
        )
