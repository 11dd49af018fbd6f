"""RDS automated backups replicated to the disaster-recovery region: snapshots and
transaction logs are copied as soon as they are ready, so the DR region can restore the
database to a point in time minutes old (RPO well under an hour), where the daily AWS Backup
copy alone loses up to a day.

There is no CloudFormation resource for it. The RDS API StartDBInstanceAutomatedBackupsReplication
is called in the destination region (and StopDBInstanceAutomatedBackupsReplication when the
resource goes), through AwsCustomResource. What the API requires, and how it is met:

- The source must have automated backups on (its BackupRetentionPeriod, 1-35 days; the
  replicas keep `retention_days`, in the same range).
- An encrypted source needs KmsKeyId: the ARN of a key in the destination region. The API
  documents a key ARN (arn:...:key/<id>), not an alias, and the DR key lives in another
  region's stack, so its ARN is looked up at deploy time with KMS DescribeKey on the alias.
  The alias pins which key; the lookup costs one call per deployment and no synth-time
  credentials.
- Outside GovCloud the PreSignedUrl is ignored; the SDK in the handler presigns one anyway
  when the source ARN is in another region.
- Changing `retention_days` later does not reach AWS (the call runs on create only): stop and
  start the replication by hand. Never rename these constructs: a replacement would start a
  second replication (refused) before stopping the first.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import custom_resources as cr
from constructs import Construct

from health_platform.infra.data.replication import DisasterRecoveryRegion


class AutomatedBackupReplication(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance: rds.DatabaseInstance,
        target: DisasterRecoveryRegion,
        retention_days: int,
        vpc: ec2.IVpc,
        subnets: list[ec2.ISubnet],
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        region = target.region
        role = self._role(instance, target)
        # One handler (a singleton Lambda function) serves both calls; it runs in the private
        # subnets and reaches RDS and KMS in the DR region through the NAT gateways.
        handler: dict[str, Any] = {
            "role": role,
            "vpc": vpc,
            "vpc_subnets": ec2.SubnetSelection(subnets=subnets),
            "log_group": log_group,
            # The Lambda runtime's own SDK: no download from npm while CloudFormation waits.
            "install_latest_aws_sdk": False,
            "timeout": Duration.minutes(2),
        }
        lookup = cr.AwsSdkCall(
            service="KMS",
            action="DescribeKey",
            region=region,
            parameters={"KeyId": target.key_alias},
            physical_resource_id=cr.PhysicalResourceId.of(f"{target.key_alias}@{region}"),
            output_paths=["KeyMetadata.Arn"],
        )
        self.key_lookup = cr.AwsCustomResource(
            self, "DestinationKey", on_create=lookup, on_update=lookup, **handler
        )
        source = {"SourceDBInstanceArn": instance.instance_arn}
        self.replication = cr.AwsCustomResource(
            self,
            "Replication",
            on_create=cr.AwsSdkCall(
                service="RDS",
                action="StartDBInstanceAutomatedBackupsReplication",
                region=region,
                parameters={
                    **source,
                    "KmsKeyId": self.key_lookup.get_response_field("KeyMetadata.Arn"),
                    "BackupRetentionPeriod": retention_days,
                },
                physical_resource_id=cr.PhysicalResourceId.of(
                    f"{instance.instance_identifier}@{region}"
                ),
            ),
            on_delete=cr.AwsSdkCall(
                service="RDS",
                action="StopDBInstanceAutomatedBackupsReplication",
                region=region,
                parameters=source,
            ),
            **handler,
        )

    def _role(self, instance: rds.DatabaseInstance, target: DisasterRecoveryRegion) -> iam.Role:
        """Start and stop this instance's replication into the DR region, and use the DR key
        there (RDS creates its grant with the caller's rights), nothing else."""
        stack = Stack.of(self)
        region = target.region
        role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Replicates the database's automated backups to {region}",
        )
        # Network interfaces in the VPC and the handler's logs.
        role.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AWSLambdaVPCAccessExecutionRole"
            )
        )
        dr_key = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": target.key_alias}}
        role.add_managed_policy(
            iam.ManagedPolicy(
                self,
                "HandlerPolicy",
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "rds:StartDBInstanceAutomatedBackupsReplication",
                            "rds:StopDBInstanceAutomatedBackupsReplication",
                        ],
                        resources=[
                            instance.instance_arn,
                            f"arn:{stack.partition}:rds:{region}:{stack.account}:auto-backup:*",
                        ],
                    ),
                    iam.PolicyStatement(
                        actions=["kms:DescribeKey"],
                        resources=[f"arn:{stack.partition}:kms:{region}:{stack.account}:key/*"],
                        conditions=dr_key,
                    ),
                    # A grant for RDS only, not one the handler could hand anyone.
                    iam.PolicyStatement(
                        actions=["kms:CreateGrant"],
                        resources=[f"arn:{stack.partition}:kms:{region}:{stack.account}:key/*"],
                        conditions={**dr_key, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                    ),
                ],
            )
        )
        return role
