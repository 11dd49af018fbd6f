"""The id of an AWS-managed prefix list, found by its name when the stack deploys.

AWS gives each managed list a different id in every region and publishes no table of
them; CloudFormation references a list only by id. An environment file names the IPv4
CloudFront list's id (`edge.cloudfront_prefix_list_id`), but the IPv6 one is looked up
here, with EC2's DescribeManagedPrefixLists, so a new region needs nothing looked up by
hand. The call runs in CDK's custom-resource function (one per stack), in the private
subnets (HIPAA pack: functions in a VPC), through the NAT gateway (EC2's API has no
interface endpoint here). In a region without the list the services stack fails on this
resource ("PrefixLists.0.PrefixListId" not in the answer): use `edge.origin_ip: ipv4`
there."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import custom_resources as cr
from constructs import Construct

from health_platform.infra.log_groups import encrypted_log_group

CLOUDFRONT_IPV6 = "com.amazonaws.global.ipv6.cloudfront.origin-facing"


class ManagedPrefixList(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        log_group_name: str,
        vpc: ec2.IVpc,
        subnets: list[ec2.ISubnet],
        logs_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Looks up the id of the managed prefix list {name}",
            managed_policies=[
                # Network interfaces in the VPC and the handler's logs.
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSLambdaVPCAccessExecutionRole"
                ),
                iam.ManagedPolicy(
                    self,
                    "HandlerPolicy",
                    statements=[
                        # A read of public data; the action has no resource-level permissions.
                        iam.PolicyStatement(
                            actions=["ec2:DescribeManagedPrefixLists"], resources=["*"]
                        )
                    ],
                ),
            ],
        )
        lookup = cr.AwsSdkCall(
            service="EC2",
            action="DescribeManagedPrefixLists",
            parameters={"Filters": [{"Name": "prefix-list-name", "Values": [name]}]},
            physical_resource_id=cr.PhysicalResourceId.of(name),
            output_paths=["PrefixLists.0.PrefixListId"],
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Lookup",
            on_create=lookup,
            on_update=lookup,
            role=role,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=subnets),
            log_group=encrypted_log_group(
                self,
                "Logs",
                name=log_group_name,
                key=logs_key,
                retention_days=log_retention_days,
            ),
            # The Lambda runtime's own SDK: no download from npm while CloudFormation waits.
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
        )
        self.id = self.resource.get_response_field("PrefixLists.0.PrefixListId")
