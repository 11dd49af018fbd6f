"""CloudTrail: every region, log file validation, KMS-encrypted, into a dedicated bucket, and
into CloudWatch Logs so security events can raise alarms; with the S3 data events of the
bucket that holds patients' documents."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data import retention
from health_platform.infra.data.buckets import private_bucket
from health_platform.infra.keys import customer_key
from health_platform.infra.log_groups import encrypted_log_group


class AuditTrail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: str,
        logs_key: kms.IKey,
        retention_days: int,
        data_events_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = customer_key(
            self,
            "Key",
            alias=f"alias/{naming.PROJECT}/{env}/cloudtrail",
            description="Encrypts CloudTrail log files",
        )
        trail_name = naming.resource_name(env, "trail")
        trail_arn = stack.format_arn(
            service="cloudtrail", resource="trail", resource_name=trail_name
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncrypt",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceArn": trail_arn}},
            )
        )
        # Also where the other audit evidence buckets of this stack log their access.
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            name=naming.bucket_name(env, "trail-access-logs", stack.account),
            key=None,
            access_logs=None,
            retention=retention.LOGS,
        )
        self.bucket = private_bucket(
            self,
            "Bucket",
            name=naming.bucket_name(env, "cloudtrail", stack.account),
            key=self.key,
            access_logs=self.access_logs,
            retention=retention.AUDIT_TRAIL,
        )
        self.log_group = encrypted_log_group(
            self,
            "Logs",
            name=f"/{naming.PROJECT}/{env}/cloudtrail",
            key=logs_key,
            retention_days=retention_days,
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name,
            bucket=self.bucket,
            encryption_key=self.key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        # Who read, wrote or deleted which document: S3 data events of the uploads bucket.
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=data_events_bucket)],
            read_write_type=cloudtrail.ReadWriteType.ALL,
            include_management_events=True,
        )
