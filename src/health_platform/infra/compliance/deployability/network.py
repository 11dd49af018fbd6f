"""Security groups: the rules a group holds, weighed as AWS counts them against its quota;
and what a function in the VPC can reach through them.

A rule that references a prefix list counts as the list's weight (AWS-managed lists) or
its maximum entries (customer-managed ones), not as one rule: CloudFront's origin-facing
list weighs 55, so two rules that name it exceed the default 60 and the stack fails with
RulesPerSecurityGroupLimitExceeded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule
from health_platform.infra.compliance.deployability.regions import SDK_CALL, sdk_call

# "Inbound or outbound rules per security group" (L-0EA8095F), per direction and counted
# separately for IPv4 and IPv6. After raising the quota in the account, raise it here.
RULES_PER_SECURITY_GROUP = 60
# The documented weights of AWS-managed prefix lists, by name; an environment file names
# the list's id in its region (settings: edge.cloudfront_prefix_list_id).
AWS_MANAGED_WEIGHTS = {
    "com.amazonaws.global.cloudfront.origin-facing": 55,
    "com.amazonaws.global.ipv6.cloudfront.origin-facing": 55,
}

_DIRECTIONS = (
    ("inbound", "SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress", "SourcePrefixListId"),
    ("outbound", "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress", "DestinationPrefixListId"),
)


def _weight(env: Environment, stack: str, rule: dict[str, Any], key: str) -> tuple[str, int | None]:
    """(the IP family budget it counts against, its weight; None: unknown)."""
    if "CidrIpv6" in rule:
        return "IPv6", 1
    if key not in rule:
        return "IPv4", 1
    prefix_list = rule[key]
    pointer = env.follow(stack, prefix_list)
    if pointer is not None and pointer.resource.type == "AWS::EC2::PrefixList":
        return "IPv4", int(pointer.resource.properties.get("MaxEntries", 1))
    if pointer is not None and pointer.resource.type == SDK_CALL:
        name = _looked_up_list(pointer.resource)
        family = "IPv6" if name and ".ipv6." in name else "IPv4"
        return family, AWS_MANAGED_WEIGHTS.get(name or "")
    if not isinstance(prefix_list, str):
        return "IPv4", None
    return "IPv4", env.prefix_list_weights.get(prefix_list)


def _looked_up_list(resource: Resource) -> str | None:
    """The name of the AWS-managed prefix list an AwsCustomResource looks up by name
    (services/prefix_lists.py), None for any other call."""
    found = sdk_call(resource)
    if found is None or found[0].get("action") != "DescribeManagedPrefixLists":
        return None
    for condition in found[0].get("parameters", {}).get("Filters", []):
        if condition.get("Name") == "prefix-list-name" and len(condition.get("Values", [])) == 1:
            return str(condition["Values"][0])
    return None


def _rules_of(
    env: Environment, group: Resource, inline: str, separate: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    for rule in group.properties.get(inline, []):
        yield group.stack, rule
    for resource in env.resources(separate):
        if env.same(resource.stack, resource.properties.get("GroupId"), group):
            yield resource.stack, resource.properties


def _check(env: Environment) -> Iterator[tuple[Resource, str]]:
    for group in env.resources("AWS::EC2::SecurityGroup"):
        for direction, inline, separate, key in _DIRECTIONS:
            totals: dict[str, int] = {}
            for stack, rule in _rules_of(env, group, inline, separate):
                family, weight = _weight(env, stack, rule, key)
                if weight is None:
                    yield (
                        group,
                        (
                            f"an {direction} rule names prefix list {rule[key]} whose weight is"
                            " unknown; add it to the environment's prefix-list weights"
                        ),
                    )
                    continue
                totals[family] = totals.get(family, 0) + weight
            for family, total in totals.items():
                if total > RULES_PER_SECURITY_GROUP:
                    yield (
                        group,
                        (
                            f"{direction} {family} rules weigh {total} (a prefix list counts as its"
                            f" entries) against a quota of {RULES_PER_SECURITY_GROUP}: the stack"
                            " fails with RulesPerSecurityGroupLimitExceeded; use fewer rules or"
                            " raise the quota (L-0EA8095F) and RULES_PER_SECURITY_GROUP"
                        ),
                    )


SECURITY_GROUP_RULE_WEIGHT = Rule(
    "HP-SG-RULE-WEIGHT",
    "Security group rules, weighted as AWS counts them, within the quota",
    "https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html",
    _check,
)


# --- functions in the VPC and AWS's APIs -----------------------------------------------------
HTTPS = 443


def _function_groups(env: Environment) -> Iterator[tuple[Resource, list[Resource]]]:
    """Each function attached to the VPC and its security groups: a Lambda function's own
    VpcConfig, or the VPC parameters of a serverless application (AWS's rotation functions)."""
    for function in env.resources("AWS::Lambda::Function", "AWS::Serverless::Application"):
        properties = function.properties
        named = (properties.get("VpcConfig") or {}).get("SecurityGroupIds") or (
            properties.get("Parameters") or {}
        ).get("vpcSecurityGroupIds")
        groups = [
            pointer.resource
            for pointer in env.pointers_in(function.stack, named)
            if pointer.resource.type == "AWS::EC2::SecurityGroup"
        ]
        if groups:
            yield function, groups


def _reaches_internet_https(env: Environment, group: Resource) -> bool:
    """Whether the group lets HTTPS out to any address (so through a NAT gateway)."""
    for _, rule in _rules_of(env, group, "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress"):
        everywhere = rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0"
        protocol = str(rule.get("IpProtocol"))
        covers = protocol == "-1" or (
            protocol in ("tcp", "6")
            and int(rule.get("FromPort", 0)) <= HTTPS <= int(rule.get("ToPort", 65535))
        )
        if everywhere and covers:
            return True
    # A group that names no egress of its own keeps CloudFormation's default: all traffic out.
    return "SecurityGroupEgress" not in group.properties


def _function_reach(env: Environment) -> Iterator[tuple[Resource, str]]:
    interface_endpoints = any(
        endpoint.properties.get("VpcEndpointType") == "Interface"
        for endpoint in env.resources("AWS::EC2::VPCEndpoint")
    )
    if interface_endpoints:
        return
    for function, groups in _function_groups(env):
        if not any(_reaches_internet_https(env, group) for group in groups):
            yield (
                function,
                (
                    "runs in the VPC with HTTPS allowed only to addresses inside it, and the VPC"
                    " has no interface endpoints: its calls to AWS's APIs (Secrets Manager for a"
                    " rotation) time out; allow HTTPS out through the NAT gateway, or keep the"
                    " endpoints"
                ),
            )


VPC_FUNCTION_REACHES_AWS = Rule(
    "HP-VPC-FUNCTION-AWS-REACH",
    "A function in the VPC reaches AWS's APIs: through an interface endpoint, or HTTPS out"
    " through the NAT gateway",
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html",
    _function_reach,
)
