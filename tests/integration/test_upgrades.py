"""`hp infra apply` refuses a change a deployed environment must take in steps, against moto:
a load balancer on public IPv4 moved straight to IPv6 would leave CloudFront without an
address to reach until the edge stack caught up."""

from __future__ import annotations

import boto3
import pytest

from health_platform.errors import RefusedError
from health_platform.ops.aws import boto_clients
from health_platform.ops.upgrades import deployed_address_type, refuse_unsafe_steps
from health_platform.settings import load_environment
from tests.integration.deployed import vpc_with_two_subnets

REGION = "us-east-1"


def _load_balancer(env: str, address_type: str) -> None:
    """A load balancer tagged as the stacks tag theirs, and a stranger's beside it."""
    ec2 = boto3.client("ec2", REGION)
    _, subnets = vpc_with_two_subnets(ec2)
    elbv2 = boto3.client("elbv2", REGION)
    elbv2.create_load_balancer(Name="someone-else", Subnets=subnets)
    elbv2.create_load_balancer(
        Name=f"healt-LoadB-{env}",
        Subnets=subnets,
        IpAddressType=address_type,
        Tags=[
            {"Key": "Project", "Value": "health-platform"},
            {"Key": "Environment", "Value": env},
            {"Key": "Component", "Value": "services"},
        ],
    )


@pytest.mark.usefixtures("aws")
def test_a_jump_from_ipv4_straight_to_ipv6_is_refused() -> None:
    dev = load_environment("dev")
    assert dev.edge.origin_ip == "ipv6"
    _load_balancer("dev", "ipv4")
    assert deployed_address_type(dev, boto_clients()) == "ipv4"
    with pytest.raises(RefusedError) as refused:
        refuse_unsafe_steps(dev, boto_clients())
    assert "Set edge.origin_ip: dualstack, apply, then ipv6" in str(refused.value)


@pytest.mark.usefixtures("aws")
def test_the_step_through_dualstack_and_a_first_deployment_pass() -> None:
    dev = load_environment("dev")
    refuse_unsafe_steps(dev, boto_clients())  # nothing deployed yet
    _load_balancer("dev", "dualstack")
    assert deployed_address_type(dev, boto_clients()) == "dualstack"
    refuse_unsafe_steps(dev, boto_clients())
