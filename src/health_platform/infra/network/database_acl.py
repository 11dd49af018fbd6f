"""A network ACL on the database subnets: a second wall behind the security groups.

Admits PostgreSQL and Redis from the private (application) subnets plus the return traffic of
those connections, and unprivileged TCP between the database subnets (replication); denies
everything else, including any traffic to or from the public subnets and the internet.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from health_platform.contract import DATABASE_PORT as POSTGRES_PORT
from health_platform.contract import REDIS_PORT

EPHEMERAL = (1024, 65535)


class DatabaseNetworkAcl(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        private_subnets: list[ec2.ISubnet],
        database_subnets: list[ec2.ISubnet],
    ) -> None:
        super().__init__(scope, construct_id)
        self.acl = ec2.NetworkAcl(
            self,
            "Acl",
            vpc=vpc,
            subnet_selection=ec2.SubnetSelection(subnets=database_subnets),
        )
        inbound, outbound = ec2.TrafficDirection.INGRESS, ec2.TrafficDirection.EGRESS
        ephemeral = ec2.AclTraffic.tcp_port_range(*EPHEMERAL)
        rule = 100
        for origin in private_subnets:
            peer = ec2.AclCidr.ipv4(origin.ipv4_cidr_block)
            for port in (POSTGRES_PORT, REDIS_PORT):
                self._allow(rule, inbound, peer, ec2.AclTraffic.tcp_port(port))
                rule += 1
            # Answers to those connections leave on the client's ephemeral port.
            self._allow(rule, outbound, peer, ephemeral)
            rule += 1
        for origin in database_subnets:
            # Between database nodes: replication on 5432/6379 and its answers, all of which
            # lie in the unprivileged port range.
            peer = ec2.AclCidr.ipv4(origin.ipv4_cidr_block)
            self._allow(rule, inbound, peer, ephemeral)
            self._allow(rule, outbound, peer, ephemeral)
            rule += 1

    def _allow(
        self,
        number: int,
        direction: ec2.TrafficDirection,
        peer: ec2.AclCidr,
        traffic: ec2.AclTraffic,
    ) -> None:
        self.acl.add_entry(
            f"{'In' if direction == ec2.TrafficDirection.INGRESS else 'Out'}{number}",
            rule_number=number,
            cidr=peer,
            traffic=traffic,
            direction=direction,
            rule_action=ec2.Action.ALLOW,
        )
