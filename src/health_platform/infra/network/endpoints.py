"""Interface endpoints, so tasks in private subnets start and run without the NAT gateways:
pull images (ECR api + dkr, layers through the S3 gateway), ship logs and metrics, and read
secrets and keys."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "CloudWatchMonitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}


class ServiceEndpoints(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        vpc_cidr: str,
        subnets: list[ec2.ISubnet],
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            # The literal CIDR, not the VPC's attribute, so checks can read the rule offline.
            ec2.Peer.ipv4(vpc_cidr),
            ec2.Port.tcp(443),
            "HTTPS from the VPC",
        )
        self.endpoints = {
            name: vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=ec2.SubnetSelection(subnets=subnets),
                security_groups=[self.security_group],
                open=False,
                private_dns_enabled=True,
            )
            for name, service in INTERFACE_ENDPOINTS.items()
        }
