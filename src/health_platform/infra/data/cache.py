"""ElastiCache (Valkey 8, or Redis OSS 7) in cluster mode: encrypted at rest and in transit, AUTH
token required."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from health_platform.contract import REDIS_PORT
from health_platform.infra.log_groups import encrypted_log_group
from health_platform.settings import CacheSettings

# Engine: (version, parameter group). Cluster mode on: data is sharded across node groups and
# clients follow redirections. A parameter group belongs to one engine family (valkey8,
# redis7): changing the engine changes both in the same deployment (HP-CACHE-ENGINE-FAMILY).
ENGINES = {
    "valkey": ("8.0", "default.valkey8.cluster.on"),
    "redis": ("7.1", "default.redis7.cluster.on"),
}


class Cache(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identifier: str,
        settings: CacheSettings,
        vpc: ec2.IVpc,
        subnets: list[ec2.ISubnet],
        clients: ec2.ISecurityGroup,
        key: kms.IKey,
        logs_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Redis from the data client security group only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            clients, ec2.Port.tcp(REDIS_PORT), "Redis from application tasks"
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "SubnetGroup",
            cache_subnet_group_name=identifier,
            description=f"{identifier}: database subnets",
            subnet_ids=[subnet.subnet_id for subnet in subnets],
        )
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            description=f"{identifier}: Redis AUTH token",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # ElastiCache accepts only printable ASCII without @, " and /; plain letters
                # and digits are always safe, and 64 of them are plenty.
                exclude_punctuation=True,
                password_length=64,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        slow_log = encrypted_log_group(
            self,
            "SlowLog",
            name=f"/aws/elasticache/{identifier}/slow-log",
            key=logs_key,
            retention_days=log_retention_days,
        )
        has_replicas = settings.replicas_per_shard > 0
        version, parameter_group = ENGINES[settings.engine]
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=identifier,
            replication_group_description=f"{identifier}: sessions, cache, rate limits",
            engine=settings.engine,
            engine_version=version,
            cache_node_type=settings.node_type,
            cluster_mode="enabled",
            cache_parameter_group_name=parameter_group,
            num_node_groups=settings.shards,
            replicas_per_node_group=settings.replicas_per_shard,
            # Cluster mode requires automatic failover; Multi-AZ needs a replica to fail to.
            automatic_failover_enabled=True,
            multi_az_enabled=has_replicas,
            port=REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            at_rest_encryption_enabled=True,
            kms_key_id=key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            # A CloudFormation dynamic reference: the token never appears in the template.
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=settings.snapshot_retention_days,
            snapshot_window="02:00-03:00",
            preferred_maintenance_window="sun:05:30-sun:06:30",
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=slow_log.log_group_name
                        )
                    ),
                    log_format="json",
                    log_type="slow-log",
                )
            ],
        )
        self.replication_group.apply_removal_policy(RemovalPolicy.RETAIN)
