"""The VPC: public, private (application) and database subnets in every availability zone."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from health_platform.settings import NetworkSettings

PUBLIC = "public"
PRIVATE = "private"
DATABASE = "database"


class PlatformVpc(Construct):
    """Public subnets hold the load balancer and the NAT gateways, private subnets the ECS
    tasks, database subnets (no route out at all) RDS and ElastiCache.

    `dual_stack`: the VPC and the public subnets get IPv6 ranges (AWS-provided), so the
    load balancer can take IPv6 addresses (it assigns its own); no subnet gives one to what
    starts in it (an IPv6 address is a public one). Tasks and databases keep IPv4 alone:
    their egress stays the NAT gateway's."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: NetworkSettings, dual_stack: bool
    ) -> None:
        super().__init__(scope, construct_id)
        # CDK's default for a dual-stack VPC is an IPv6 address for every new interface.
        no_ipv6 = {"ipv6_assign_address_on_creation": False} if dual_stack else {}
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(settings.vpc_cidr)),
            # Named zones, not a count: synthesis must not look zones up in the account.
            availability_zones=list(settings.availability_zones),
            nat_gateways=settings.nat_gateways,
            ip_protocol=ec2.IpProtocol.DUAL_STACK if dual_stack else ec2.IpProtocol.IPV4_ONLY,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    # Nothing launched here gets a public address by accident; the ALB and
                    # NAT gateways bring their own.
                    map_public_ip_on_launch=False,
                    **no_ipv6,
                ),
                ec2.SubnetConfiguration(
                    name=PRIVATE,
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=20,
                    **no_ipv6,
                ),
                ec2.SubnetConfiguration(
                    name=DATABASE,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=24,
                    **no_ipv6,
                ),
            ],
            # Strip every rule from the default security group, so nothing that falls back
            # to it can talk.
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        if dual_stack:
            self._ipv6_for_public_subnets_only()

    def _ipv6_for_public_subnets_only(self) -> None:
        """CDK's dual-stack VPC gives every subnet an IPv6 range and routes the private ones'
        IPv6 out through an egress-only gateway. Only the load balancer needs IPv6: the other
        subnets keep none, so the NAT gateway stays their only way out."""
        for subnet in [*self.private_subnets, *self.database_subnets]:
            cfn_subnet = subnet.node.default_child
            assert isinstance(cfn_subnet, ec2.CfnSubnet)
            cfn_subnet.add_property_deletion_override("Ipv6CidrBlock")
            cfn_subnet.add_property_deletion_override("AssignIpv6AddressOnCreation")
            subnet.node.try_remove_child("DefaultRoute6")
        self.vpc.node.try_remove_child("EIGW6")

    @property
    def private_subnets(self) -> list[ec2.ISubnet]:
        return list(self.vpc.select_subnets(subnet_group_name=PRIVATE).subnets)

    @property
    def database_subnets(self) -> list[ec2.ISubnet]:
        return list(self.vpc.select_subnets(subnet_group_name=DATABASE).subnets)
