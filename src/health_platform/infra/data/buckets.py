"""S3 buckets: private, versioned, encrypted, TLS-only, access-logged, tiered to cold storage.

Uploads (patients' documents and images), static assets, backups and ALB access logs, plus
the bucket that receives every other bucket's server access logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data import retention
from health_platform.infra.data.retention import Retention

ALB_LOG_PREFIX = "alb"


INFREQUENT_AFTER_DAYS = 30
COLD_AFTER_DAYS = 90


def lifecycle_rules(cold_storage: s3.StorageClass, retention: Retention) -> list[s3.LifecycleRule]:
    """Standard-IA after 30 days, cold storage after 90, expiry as `retention` says, stale
    multipart uploads cleaned. S3 refuses a transition on or after the expiry of the same
    objects (HP-S3-LIFECYCLE-ORDER), so only the transitions before it are kept."""
    steps = (
        (s3.StorageClass.INFREQUENT_ACCESS, INFREQUENT_AFTER_DAYS),
        (cold_storage, COLD_AFTER_DAYS),
    )
    current = retention.current_days
    return [
        s3.LifecycleRule(
            id="tiering",
            transitions=[
                s3.Transition(storage_class=kind, transition_after=Duration.days(days))
                for kind, days in steps
                if current is None or days < current
            ],
            expiration=Duration.days(current) if current else None,
            noncurrent_version_transitions=[
                s3.NoncurrentVersionTransition(
                    storage_class=kind, transition_after=Duration.days(days)
                )
                for kind, days in steps
                if days < retention.noncurrent_days
            ],
            noncurrent_version_expiration=Duration.days(retention.noncurrent_days),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    key: kms.IKey | None,
    access_logs: s3.IBucket | None,
    retention: Retention,
    cold_storage: s3.StorageClass = s3.StorageClass.GLACIER,
    object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
) -> s3.Bucket:
    """A bucket with every protection on. `key=None` means SSE-S3, for the destinations AWS
    services can only write with it (ALB access logs, S3 server access logs). ACLs stay
    disabled unless `object_ownership` says otherwise (CloudFront's standard logs)."""
    return s3.Bucket(
        scope,
        construct_id,
        bucket_name=name,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        bucket_key_enabled=key is not None,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=object_ownership,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{construct_id.lower()}/" if access_logs else None,
        lifecycle_rules=lifecycle_rules(cold_storage, retention),
        removal_policy=RemovalPolicy.RETAIN,
    )


@dataclass(frozen=True)
class ReplicaTarget:
    """A versioned, KMS-encrypted bucket in another region, addressed by name alone."""

    bucket_name: str
    region: str
    key_alias: str


class Buckets(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: str,
        key: kms.IKey,
        dr_region: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            name=naming.bucket_name(env, "access-logs", account),
            key=None,
            access_logs=None,
            retention=retention.LOGS,
        )

        def bucket(construct_id: str, purpose: str, **options: object) -> s3.Bucket:
            return private_bucket(
                self,
                construct_id,
                name=naming.bucket_name(env, purpose, account),
                access_logs=self.access_logs,
                **options,  # type: ignore[arg-type]
            )

        # Served to people on demand: Glacier Instant Retrieval keeps millisecond reads.
        instant = s3.StorageClass.GLACIER_INSTANT_RETRIEVAL
        self.uploads = bucket(
            "Uploads", "uploads", key=key, cold_storage=instant, retention=retention.HEALTH_DATA
        )
        self.static_assets = bucket(
            "StaticAssets", "static", key=key, cold_storage=instant, retention=retention.STATIC
        )
        self.backups = bucket("Backups", "backups", key=key, retention=retention.BACKUPS)
        self.alb_logs = bucket("AlbLogs", "alb-logs", key=None, retention=retention.LOGS)
        self._let_load_balancers_write(self.alb_logs)
        self._let_cloudfront_read(self.static_assets, key)
        if dr_region:
            for source, purpose in ((self.uploads, "uploads"), (self.backups, "backups")):
                replicate(
                    source,
                    source_name=naming.bucket_name(env, purpose, account),
                    source_key=key,
                    target=ReplicaTarget(
                        bucket_name=naming.bucket_name(env, f"{purpose}-replica", account),
                        region=dr_region,
                        key_alias=naming.dr_key_alias(env),
                    ),
                )

    def _let_cloudfront_read(self, bucket: s3.Bucket, key: kms.IKey) -> None:
        """Origin access control: this account's CloudFront distributions may read (the edge
        stack's distribution is in another stack, possibly another region, so it is named by
        pattern rather than by reference)."""
        stack = Stack.of(self)
        principal = iam.ServicePrincipal("cloudfront.amazonaws.com")
        distributions = {
            "ArnLike": {
                "AWS:SourceArn": f"arn:{stack.partition}:cloudfront::{stack.account}:distribution/*"
            }
        }
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudFrontOriginAccessControl",
                principals=[principal],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions=distributions,
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudFrontToDecryptStaticAssets",
                principals=[principal],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions=distributions,
            )
        )

    def _let_load_balancers_write(self, bucket: s3.Bucket) -> None:
        """Regions older than August 2022 deliver ALB logs from a regional ELB account; newer
        ones from the log-delivery service principal."""
        stack = Stack.of(self)
        elb_account = RegionInfo.get(stack.region).elbv2_account
        principal: iam.IPrincipal = (
            iam.AccountPrincipal(elb_account)
            if elb_account
            else iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com")
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowLoadBalancerAccessLogs",
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{ALB_LOG_PREFIX}/AWSLogs/{stack.account}/*")],
            )
        )


def replicate(
    source: s3.Bucket, *, source_name: str, source_key: kms.IKey, target: ReplicaTarget
) -> iam.Role:
    """Replicate every object version, deletes included, to `target` with S3's own role.

    Written at the CloudFormation level: the destination key is known only by its alias ARN
    (it lives in another region's stack), which the L2 replication rule cannot take.
    """
    scope = source
    stack = Stack.of(scope)
    partition = stack.partition
    # ARNs from the fixed name, not from the bucket resource: the bucket refers to this role,
    # so the role's policy referring back to the bucket would be a circular dependency.
    source_arn = f"arn:{partition}:s3:::{source_name}"
    target_arn = f"arn:{partition}:s3:::{target.bucket_name}"
    target_key_alias_arn = f"arn:{partition}:kms:{target.region}:{stack.account}:{target.key_alias}"
    role = iam.Role(
        scope,
        "ReplicationRole",
        assumed_by=iam.ServicePrincipal(
            "s3.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
        ),
        description=f"Replicates {target.bucket_name.removesuffix('-replica')} to {target.region}",
    )
    role.add_managed_policy(
        iam.ManagedPolicy(
            scope,
            "ReplicationPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    resources=[source_arn],
                ),
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    resources=[f"{source_arn}/*"],
                ),
                iam.PolicyStatement(
                    actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    resources=[f"{target_arn}/*"],
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[source_key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}
                    },
                ),
                iam.PolicyStatement(
                    # Key ARNs in another stack are unknown here; the alias pins the key.
                    actions=["kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[f"arn:{partition}:kms:{target.region}:{stack.account}:key/*"],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
                        "ForAnyValue:StringEquals": {"kms:ResourceAliases": target.key_alias},
                    },
                ),
            ],
        )
    )
    cfn_bucket: s3.CfnBucket = source.node.default_child  # type: ignore[assignment]
    cfn_bucket.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
        role=role.role_arn,
        rules=[
            s3.CfnBucket.ReplicationRuleProperty(
                id="disaster-recovery",
                status="Enabled",
                priority=1,
                filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(
                    status="Enabled"
                ),
                source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                    sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(
                        status="Enabled"
                    )
                ),
                destination=s3.CfnBucket.ReplicationDestinationProperty(
                    bucket=target_arn,
                    encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                        replica_kms_key_id=target_key_alias_arn
                    ),
                ),
            )
        ],
    )
    return role
