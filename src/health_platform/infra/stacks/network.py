"""`health-platform-<env>-network`: the VPC and everything that shapes traffic in it."""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.keys import logs_key
from health_platform.infra.network.database_acl import DatabaseNetworkAcl
from health_platform.infra.network.endpoints import ServiceEndpoints
from health_platform.infra.network.flow_logs import FlowLogs
from health_platform.infra.network.vpc import PlatformVpc
from health_platform.infra.stacks.base import PlatformStack
from health_platform.settings import EnvironmentSettings


class NetworkStack(PlatformStack):
    part = naming.NETWORK

    def __init__(self, scope: Construct, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings, description="VPC, subnets, NAT, endpoints, flow logs")
        env = settings.name
        # The logs key lives in the first stack because the first log group (flow logs) is
        # here; later stacks encrypt their log groups with it too.
        self.logs_key = logs_key(self, "LogsKey", alias=f"alias/{naming.PROJECT}/{env}/logs")
        network = PlatformVpc(
            self, "Network", settings=settings.network, dual_stack=settings.dual_stack
        )
        self.vpc = network.vpc
        self.private_subnets = network.private_subnets
        self.database_subnets = network.database_subnets
        if settings.network.interface_endpoints:
            ServiceEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                vpc_cidr=str(settings.network.vpc_cidr),
                subnets=self.private_subnets,
            )
        FlowLogs(
            self,
            "FlowLogs",
            vpc=self.vpc,
            log_group_name=f"/{naming.PROJECT}/{env}/vpc-flow-logs",
            key=self.logs_key,
            retention_days=settings.network.flow_log_retention_days,
        )
        DatabaseNetworkAcl(
            self,
            "DatabaseAcl",
            vpc=self.vpc,
            private_subnets=self.private_subnets,
            database_subnets=self.database_subnets,
        )
        CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        CfnOutput(self, "LogsKeyArn", value=self.logs_key.key_arn)
        # Where one-off tasks (the migration) run: the services' subnets.
        CfnOutput(
            self,
            naming.Output.PRIVATE_SUBNETS,
            value=",".join(subnet.subnet_id for subnet in self.private_subnets),
        )
