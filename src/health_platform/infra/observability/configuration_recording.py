"""AWS Config in the environment's region (the seed's configuration drift detection): the
account's configuration recorder, recording every supported resource type continuously,
its history delivered to an encrypted bucket; our HIPAA conformance pack (hipaa_pack.py);
and each of the pack's rules that turns NON_COMPLIANT sent to the alert topic.

The recorder and its delivery channel are one per account and region, like GuardDuty's
detector (threat_detection.py). With `security_services: existing` in the environment file
the account's own recorder is used: only the pack and the alert rule are made, and that
recorder must be recording before the stack deploys (docs/operations.md).

The DR region is not recorded: it holds copies (replica buckets, backup copies, their key)
of what the primary region's rules check at the source; recording it too would be a second
recorder and pack to run and pay for.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data import retention
from health_platform.infra.data.buckets import private_bucket
from health_platform.infra.keys import customer_key
from health_platform.infra.observability.event_alerts import alert_on_events
from health_platform.infra.observability.hipaa_pack import template_body
from health_platform.settings import EnvironmentSettings

CONFIG_SERVICE = "config.amazonaws.com"
# Updated by AWS whenever AWS Config supports a new resource type.
CONFIG_ROLE_POLICY = "service-role/AWS_ConfigRole"
# AWS Config records the global IAM types (users, groups, roles, customer managed policies)
# only in the regions it served before February 2022 (CloudFormation's RecordingGroup
# reference); these are such regions. A region missing here only goes without IAM's types.
GLOBAL_TYPES_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
        "ap-southeast-2", "ap-southeast-3", "ap-south-1", "ap-east-1", "me-south-1",
        "af-south-1",
    }
)  # fmt: skip
SNAPSHOT_FREQUENCY = "TwentyFour_Hours"  # a full snapshot a day, beside the change history


class ConfigurationRecording(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        topic: sns.ITopic,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        env = settings.name
        self.pack = config.CfnConformancePack(
            self,
            "HipaaPack",
            conformance_pack_name=naming.conformance_pack_name(env),
            template_body=template_body(settings),
        )
        if settings.creates_security_services:
            # A pack's rules need the recorder recording, which needs its delivery channel.
            self.pack.node.add_dependency(*self._record(env, access_logs))
        alert_on_events(
            self,
            "NonCompliant",
            topic=topic,
            description="Rules of the HIPAA conformance pack that became NON_COMPLIANT",
            source="aws.config",
            detail_type="Config Rules Compliance Change",
            detail={
                "configRuleName": [{"prefix": naming.config_rule_prefix(env)}],
                "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
            },
        )

    def _record(self, env: str, access_logs: s3.IBucket) -> list[CfnResource]:
        """The recorder and its delivery channel, with what the channel delivers into."""
        account = Stack.of(self).account
        key = customer_key(
            self,
            "Key",
            alias=f"alias/{naming.PROJECT}/{env}/config",
            description="Encrypts AWS Config's configuration history",
        )
        bucket = private_bucket(
            self,
            "History",
            name=naming.bucket_name(env, "config", account),
            key=key,
            access_logs=access_logs,
            retention=retention.CONFIGURATION_HISTORY,
        )
        # Where AWS Config writes (with no key prefix on the channel).
        delivered = bucket.arn_for_objects(f"AWSLogs/{account}/Config/*")
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                CONFIG_SERVICE, conditions={"StringEquals": {"aws:SourceAccount": account}}
            ),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(CONFIG_ROLE_POLICY)],
            description="AWS Config's recorder: reads resources' configuration, delivers it",
        )
        # Not the service-linked role AWSServiceRoleForConfig: creating it in a stack fails
        # where it exists already (an earlier Config set-up, another environment) and deleting
        # the stack would take it from whoever else uses it. A role of our own does neither.
        delivery = iam.ManagedPolicy(
            self,
            "DeliveryPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]),
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[delivered],
                    conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
                ),
            ],
        )
        self._let_config_service_deliver(bucket, delivered, key, account)
        recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            name=naming.resource_name(env),
            role_arn=role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=True,
                include_global_resource_types=Stack.of(self).region in GLOBAL_TYPES_REGIONS,
            ),
            recording_mode=config.CfnConfigurationRecorder.RecordingModeProperty(
                recording_frequency="CONTINUOUS"
            ),
        )
        snapshots = config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
            delivery_frequency=SNAPSHOT_FREQUENCY
        )
        channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            name=naming.resource_name(env),
            s3_bucket_name=bucket.bucket_name,
            s3_kms_key_arn=key.key_arn,
            config_snapshot_delivery_properties=snapshots,
        )
        # AWS Config refuses a channel before its recorder, or one it may not deliver to
        # (the bucket's policy is a resource of its own, under the bucket's construct).
        channel.node.add_dependency(recorder, bucket, delivery)
        return [recorder, channel]

    @staticmethod
    def _let_config_service_deliver(
        bucket: s3.Bucket, delivered: str, key: kms.IKey, account: str
    ) -> None:
        """The bucket and key policies AWS Config's guide gives a delivery bucket, for this
        account only: AWS Config writes as its service principal wherever a role may not (a
        service-linked role, a bucket in another account), so delivery keeps working if the
        account's recorder ever changes role."""
        service = iam.ServicePrincipal(CONFIG_SERVICE)
        this_account = {"aws:SourceAccount": account}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketPermissionsCheck",
                principals=[service],
                # ListBucket: AWS Config's HeadBucket check that the bucket exists, and where.
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": this_account},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketDelivery",
                principals=[service],
                actions=["s3:PutObject"],
                resources=[delivered],
                conditions={
                    "StringEquals": {**this_account, "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowConfigToEncryptItsDeliveries",
                principals=[service],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": this_account},
            )
        )
