"""Customer-managed KMS keys: rotated yearly, retained when a stack is deleted."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def customer_key(scope: Construct, construct_id: str, *, alias: str, description: str) -> kms.Key:
    return kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        pending_window=Duration.days(30),
        removal_policy=RemovalPolicy.RETAIN,
    )


def logs_key(scope: Construct, construct_id: str, *, alias: str) -> kms.Key:
    """A key CloudWatch Logs may use for this account's log groups in this region, and only
    for those (the encryption-context condition stops use on behalf of anyone else)."""
    key = customer_key(
        scope, construct_id, alias=alias, description="Encrypts CloudWatch log groups"
    )
    stack = Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsForThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )
    )
    return key
