"""CloudWatch log groups as this project makes them: KMS-encrypted, with a set retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def encrypted_log_group(
    scope: Construct, construct_id: str, *, name: str, key: kms.IKey, retention_days: int
) -> logs.LogGroup:
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN,  # logs are audit evidence
    )
    # The environment file holds retention as a number of days that settings.py has already
    # checked against CloudWatch's allowed values; set it on the resource directly.
    cfn_group: logs.CfnLogGroup = group.node.default_child  # type: ignore[assignment]
    cfn_group.retention_in_days = retention_days
    return group
