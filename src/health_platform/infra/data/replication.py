"""What the primary region keeps copied into the disaster-recovery region as it changes:
the secrets the services read (Secrets Manager replicas) and the service images (ECR
registry replication). Buckets replicate in buckets.py, database backups in
backup_replication.py.

Everything in the DR region is addressed by name (the dr stack's key alias), because
CloudFormation cannot reference a stack in another region.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


@dataclass(frozen=True)
class DisasterRecoveryRegion:
    """The region the copies go to, and the alias of the key that encrypts them there."""

    region: str
    key_alias: str

    def key_alias_arn(self, scope: Construct) -> str:
        stack = Stack.of(scope)
        return f"arn:{stack.partition}:kms:{self.region}:{stack.account}:{self.key_alias}"


def replicate_secret(secret: secretsmanager.Secret, target: DisasterRecoveryRegion) -> None:
    """Keep a replica of `secret` in the DR region, encrypted with the DR key.

    Written at the CloudFormation level: the L2 construct takes the replica key as an IKey and
    writes its ARN, and an alias imported here would carry this region in its ARN. Secrets
    Manager takes the ARN, key ID or alias of a key in the replica's region (ReplicaRegionType);
    the alias ARN names the DR key without a lookup. A rotation in the primary region reaches
    the replica by itself.
    """
    cfn_secret: secretsmanager.CfnSecret = secret.node.default_child  # type: ignore[assignment]
    cfn_secret.replica_regions = [
        secretsmanager.CfnSecret.ReplicaRegionProperty(
            region=target.region, kms_key_id=target.key_alias_arn(secret)
        )
    ]


class ImageReplication(Construct):
    """Every image pushed to the environment's repositories is copied to the DR region.

    ECR's replication configuration belongs to the registry, not to a repository: there is
    one per account and region, and deploying this resource replaces whatever replication
    rules the registry had (another environment or tool in the same account and region would
    have to add its rules here). Only images pushed after it exists are replicated: after
    the first deployment, `hp release` the running version again to copy it.

    The repositories ECR creates in the DR region take their settings from the repository
    creation template there (the dr stack's, registry.ReplicaRepositoryTemplate); without one
    they would be mutable and AES-256 encrypted.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository_prefix: str,
        target: DisasterRecoveryRegion,
    ) -> None:
        super().__init__(scope, construct_id)
        self.configuration = ecr.CfnReplicationConfiguration(
            self,
            "Registry",
            replication_configuration=ecr.CfnReplicationConfiguration.ReplicationConfigurationProperty(
                rules=[
                    ecr.CfnReplicationConfiguration.ReplicationRuleProperty(
                        destinations=[
                            ecr.CfnReplicationConfiguration.ReplicationDestinationProperty(
                                region=target.region, registry_id=Stack.of(self).account
                            )
                        ],
                        # The trailing slash keeps environments whose names share a prefix
                        # (prod, prod-eu) apart.
                        repository_filters=[
                            ecr.CfnReplicationConfiguration.RepositoryFilterProperty(
                                filter=f"{repository_prefix}/", filter_type="PREFIX_MATCH"
                            )
                        ],
                    )
                ]
            ),
        )
