"""The network stack carries the seed's networking section for each environment."""

from __future__ import annotations

import ipaddress

from aws_cdk.assertions import Match

from health_platform.infra.naming import NETWORK
from health_platform.infra.network.endpoints import INTERFACE_ENDPOINTS
from tests.infra.conftest import Synthesis


def subnets_by_tier(synthesis: Synthesis, env: str) -> dict[str, list[dict]]:
    tiers: dict[str, list[dict]] = {}
    for resource in synthesis.resources(env, NETWORK, "AWS::EC2::Subnet").values():
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        tiers.setdefault(tags["aws-cdk:subnet-name"], []).append(resource["Properties"])
    return tiers


def test_vpc_cidr_and_dns(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    synthesis.template(env, NETWORK).has_resource_properties(
        "AWS::EC2::VPC",
        {
            "CidrBlock": str(settings.network.vpc_cidr),
            "EnableDnsHostnames": True,
            "EnableDnsSupport": True,
        },
    )


def test_three_subnet_tiers_in_every_zone(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    zones = settings.network.availability_zones
    tiers = subnets_by_tier(synthesis, env)
    assert sorted(tiers) == ["database", "private", "public"]
    vpc = settings.network.vpc_cidr
    for subnets in tiers.values():
        assert sorted(s["AvailabilityZone"] for s in subnets) == sorted(zones)
        for subnet in subnets:
            assert ipaddress.ip_network(subnet["CidrBlock"]).subnet_of(vpc)
            assert subnet["MapPublicIpOnLaunch"] is False


def test_internet_gateway_and_nat_per_setting(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    template = synthesis.template(env, NETWORK)
    template.resource_count_is("AWS::EC2::InternetGateway", 1)
    template.resource_count_is("AWS::EC2::NatGateway", settings.network.nat_gateways)
    expected = {"dev": 1, "staging": 2, "prod": 3}[env]
    assert settings.network.nat_gateways == expected


def test_database_subnets_have_no_route_out(synthesis: Synthesis, env: str) -> None:
    routes = synthesis.resources(env, NETWORK, "AWS::EC2::Route")
    assert not [r for logical_id, r in routes.items() if "databaseSubnet" in logical_id]
    private_routes = [r for logical_id, r in routes.items() if "privateSubnet" in logical_id]
    # Their only way out is the NAT gateway: no IPv6 route (test_only_public_subnets_have_ipv6).
    assert private_routes and all("NatGatewayId" in r["Properties"] for r in private_routes)


def test_only_public_subnets_have_ipv6(synthesis: Synthesis, env: str) -> None:
    """The VPC is dual-stack for the load balancer (edge.origin_ip): only the public subnets
    get IPv6 ranges, and no subnet gives what starts in it an IPv6 address (a public one)."""
    subnets = synthesis.resources(env, NETWORK, "AWS::EC2::Subnet")
    dual_stack = synthesis.environments[env].dual_stack
    for logical_id, subnet in subnets.items():
        public = "publicSubnet" in logical_id
        assert ("Ipv6CidrBlock" in subnet["Properties"]) == (dual_stack and public), logical_id
        assert not subnet["Properties"].get("AssignIpv6AddressOnCreation"), logical_id
        assert not subnet["Properties"].get("MapPublicIpOnLaunch"), logical_id
    kinds = {r["Type"] for r in synthesis.raw(env, NETWORK)["Resources"].values()}
    assert "AWS::EC2::EgressOnlyInternetGateway" not in kinds


def test_vpc_endpoints(synthesis: Synthesis, env: str) -> None:
    endpoints = synthesis.resources(env, NETWORK, "AWS::EC2::VPCEndpoint").values()
    kinds = [e["Properties"].get("VpcEndpointType", "Gateway") for e in endpoints]
    assert kinds.count("Gateway") == 1  # S3, free, in every environment
    if not synthesis.environments[env].network.interface_endpoints:
        # The cost option (dev): AWS's APIs through the NAT gateway, none of the others.
        assert kinds == ["Gateway"]
        return
    assert kinds.count("Interface") == len(INTERFACE_ENDPOINTS)
    services = " ".join(str(e["Properties"]["ServiceName"]) for e in endpoints)
    for needed in ("ecr.api", "ecr.dkr", "logs", "monitoring", "secretsmanager", "ssm", "kms"):
        assert f".{needed}" in services, needed
    interfaces = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert all(e["Properties"]["PrivateDnsEnabled"] for e in interfaces)


def test_flow_logs_capture_all_traffic_into_an_encrypted_group(
    synthesis: Synthesis, env: str
) -> None:
    settings = synthesis.environments[env]
    template = synthesis.template(env, NETWORK)
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": f"/health-platform/{env}/vpc-flow-logs",
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^LogsKey"), "Arn"]},
                "RetentionInDays": settings.network.flow_log_retention_days,
            },
            "DeletionPolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_default_security_group_is_closed(synthesis: Synthesis, env: str) -> None:
    synthesis.template(env, NETWORK).resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_database_acl_admits_only_postgres_and_redis_from_private_subnets(
    synthesis: Synthesis, env: str
) -> None:
    settings = synthesis.environments[env]
    tiers = subnets_by_tier(synthesis, env)
    private = sorted(s["CidrBlock"] for s in tiers["private"])
    database = sorted(s["CidrBlock"] for s in tiers["database"])
    template = synthesis.template(env, NETWORK)
    template.resource_count_is("AWS::EC2::SubnetNetworkAclAssociation", settings.network.az_count)
    entries = [
        e["Properties"]
        for e in synthesis.resources(env, NETWORK, "AWS::EC2::NetworkAclEntry").values()
    ]
    assert all(e["RuleAction"] == "allow" and e["Protocol"] == 6 for e in entries)
    assert not [e for e in entries if e["CidrBlock"] == "0.0.0.0/0"]
    inbound_ports = {
        (e["CidrBlock"], e["PortRange"]["From"], e["PortRange"]["To"])
        for e in entries
        if not e.get("Egress")
    }
    for cidr in private:
        assert (cidr, 5432, 5432) in inbound_ports
        assert (cidr, 6379, 6379) in inbound_ports
    from_private = {(c, f, t) for c, f, t in inbound_ports if c in private}
    assert from_private == {(c, p, p) for c in private for p in (5432, 6379)}
    assert {c for c, _, _ in inbound_ports} == set(private) | set(database)
    outbound = {e["CidrBlock"] for e in entries if e.get("Egress")}
    assert outbound == set(private) | set(database)
