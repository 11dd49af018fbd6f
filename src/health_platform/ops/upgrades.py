"""Changes an environment file can ask for that a deployed environment must take in steps.

A load balancer with public IPv4 addresses moved straight to `edge.origin_ip: ipv6` loses
them when the services stack deploys, minutes before the edge stack tells CloudFront to
reach it over IPv6: 502 for everyone meanwhile. `dualstack` first (docs/operations.md)."""

from __future__ import annotations

from health_platform.errors import RefusedError
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors
from health_platform.settings import EnvironmentSettings

LOAD_BALANCER_TAGS = {"Project": naming.PROJECT, "Component": naming.SERVICES}


def deployed_address_type(settings: EnvironmentSettings, clients: ClientFactory) -> str | None:
    """The IpAddressType of the environment's deployed load balancer (found by the tags every
    stack puts on its resources), None when there is none yet."""
    elbv2 = clients("elbv2", settings.region)
    wanted = {**LOAD_BALANCER_TAGS, "Environment": settings.name}
    with aws_errors(f"read {settings.name}'s load balancer"):
        balancers = [
            balancer
            for page in elbv2.get_paginator("describe_load_balancers").paginate()
            for balancer in page["LoadBalancers"]
            if balancer.get("Type", "application") == "application"
        ]
        arns = [balancer["LoadBalancerArn"] for balancer in balancers]
        for start in range(0, len(arns), 20):  # DescribeTags takes 20 ARNs at most
            described = elbv2.describe_tags(ResourceArns=arns[start : start + 20])
            for found in described["TagDescriptions"]:
                tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
                if all(tags.get(key) == value for key, value in wanted.items()):
                    return next(
                        str(balancer.get("IpAddressType", "ipv4"))
                        for balancer in balancers
                        if balancer["LoadBalancerArn"] == found["ResourceArn"]
                    )
    return None


def refuse_unsafe_steps(settings: EnvironmentSettings, clients: ClientFactory) -> None:
    """Refuse (exit 6) an apply that would take away the addresses CloudFront uses."""
    if settings.edge.origin_ip != "ipv6":
        return
    if deployed_address_type(settings, clients) == "ipv4":
        raise RefusedError(
            f"{settings.name}'s load balancer is deployed with public IPv4 addresses only, which"
            " CloudFront reaches it by; going straight to edge.origin_ip: ipv6 removes them"
            " before CloudFront moves to IPv6. Set edge.origin_ip: dualstack, apply, then"
            " ipv6 (docs/operations.md)."
        )
