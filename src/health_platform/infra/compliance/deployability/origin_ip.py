"""How CloudFront reaches a load balancer: over IPv4, IPv6 or either, and what each needs on
the other side.

An origin set to IPv6 ("IPv6 only - Requires your origin domain to resolve to an IPv6
address") finds nothing without an AAAA record; an origin on IPv4 finds no public address
on a load balancer of type dualstack-without-public-ipv4; and a dual-stack load balancer
needs subnets with IPv6 ranges. CloudFormation deploys all of these; CloudFront answers
502, or the load balancer's update fails.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-enable-ipv6.html#ipv6-origin-requests,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-ip-address-type.html"""

from __future__ import annotations

from collections.abc import Iterator

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
WITHOUT_PUBLIC_IPV4 = "dualstack-without-public-ipv4"
IPV6_TYPES = ("dualstack", WITHOUT_PUBLIC_IPV4)


def _aliased(env: Environment, name: str, kind: str) -> list[Resource | None]:
    """For each record of `kind` (A, AAAA) named `name`: the load balancer it aliases, or
    None when it aliases anything else."""
    found: list[Resource | None] = []
    for record in env.resources("AWS::Route53::RecordSet"):
        props = record.properties
        if props.get("Type") != kind or literal(props.get("Name")) != f"{name}.":
            continue
        target = props.get("AliasTarget", {}).get("DNSName")
        balancers = [
            p.resource
            for p in env.pointers_in(record.stack, target)
            if p.resource.type == LOAD_BALANCER
        ]
        found.append(balancers[0] if balancers else None)
    return found


def _address_type(balancer: Resource) -> str:
    return literal(balancer.properties.get("IpAddressType")) or "ipv4"


def _origins(env: Environment) -> Iterator[tuple[Resource, str, str]]:
    """(the distribution, an origin's domain name, how CloudFront reaches it)."""
    for distribution in env.resources("AWS::CloudFront::Distribution"):
        for origin in distribution.properties["DistributionConfig"].get("Origins", []):
            custom = origin.get("CustomOriginConfig")
            name = literal(origin.get("DomainName"))
            if custom is None or name is None:
                continue
            yield distribution, name, literal(custom.get("IpAddressType")) or "ipv4"


def _origin_ip(env: Environment) -> Iterator[tuple[Resource, str]]:
    for distribution, name, reached in _origins(env):
        if reached == "ipv6" and not _aliased(env, name, "AAAA"):
            yield (
                distribution,
                f"reaches {name} over IPv6 but no AAAA record of the templates names it:"
                " CloudFront finds no IPv6 address and answers 502",
            )
        for balancer in _aliased(env, name, "AAAA") if reached != "ipv4" else []:
            if balancer is not None and _address_type(balancer) not in IPV6_TYPES:
                yield (
                    distribution,
                    f"reaches {name} over {reached}, but the load balancer its AAAA record"
                    f" names is {_address_type(balancer)}: it has no IPv6 address, and"
                    " CloudFront answers 502",
                )
        if reached != "ipv4":
            continue
        for balancer in _aliased(env, name, "A"):
            if balancer is not None and _address_type(balancer) == WITHOUT_PUBLIC_IPV4:
                yield (
                    distribution,
                    f"reaches {name} over IPv4, but the load balancer has no public IPv4"
                    f" address ({WITHOUT_PUBLIC_IPV4}): CloudFront answers 502; reach it"
                    " over ipv6",
                )
    yield from _dual_stack_subnets(env)


def _dual_stack_subnets(env: Environment) -> Iterator[tuple[Resource, str]]:
    for balancer in env.resources(LOAD_BALANCER):
        if _address_type(balancer) not in IPV6_TYPES:
            continue
        for value in balancer.properties.get("Subnets", []):
            pointer = env.follow(balancer.stack, value)
            if pointer is None or pointer.resource.type != "AWS::EC2::Subnet":
                continue
            if "Ipv6CidrBlock" not in pointer.resource.properties:
                yield (
                    balancer,
                    f"is {_address_type(balancer)} in subnet {pointer.resource.logical_id},"
                    " which has no IPv6 range: the load balancer's creation or update fails",
                )


ORIGIN_IP = Rule(
    "HP-CF-ORIGIN-IP",
    "CloudFront reaches the load balancer by an address family it has",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-enable-ipv6.html",
    _origin_ip,
)
