"""VPC flow logs (all traffic) into an encrypted CloudWatch log group."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from health_platform.infra.log_groups import encrypted_log_group


class FlowLogs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        log_group_name: str,
        key: kms.IKey,
        retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = encrypted_log_group(
            self, "LogGroup", name=log_group_name, key=key, retention_days=retention_days
        )
        # A managed policy rather than the inline one CDK would write (HIPAA: no inline
        # policies), and a trust limited to this account's flow logs (confused deputy).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="ec2", resource="vpc-flow-log", resource_name="*"
                        )
                    },
                },
            ),
            description="Lets VPC flow logs write into their log group",
        )
        self.role.add_managed_policy(
            iam.ManagedPolicy(
                self,
                "WritePolicy",
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        resources=[self.log_group.log_group_arn],
                    )
                ],
            )
        )
        self.flow_log = ec2.CfnFlowLog(
            self,
            "FlowLog",
            resource_id=vpc.vpc_id,
            resource_type="VPC",
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_group_name=self.log_group.log_group_name,
            deliver_logs_permission_arn=self.role.role_arn,
        )
