"""The security-group path from the backend's tasks to the database and the cache."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from health_platform.checks import Check
from health_platform.contract import BACKEND, DATABASE_PORT
from health_platform.ops.doctor.environment import Environment


def check_network(e: Environment) -> list[Check]:
    """The backend's tasks reach the database and the cache only if one of the data tier's
    groups admits one of the tasks' groups, by group id, on the port it listens on, and a
    task's group lets the traffic out.

    The ports are read from the resources themselves (the database's endpoint, the
    cache's): what they listen on, not what the contract says they should."""
    backend = e.running().get(BACKEND)
    if backend is None:
        return []  # the services check says why
    tasks = set(backend["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"])
    targets: list[tuple[str, list[str], int | None]] = []
    database = e.primary_database
    if database is not None:
        port = (database.get("Endpoint") or {}).get("Port") or DATABASE_PORT
        groups = [g["VpcSecurityGroupId"] for g in database.get("VpcSecurityGroups", [])]
        targets.append(("database", groups, port))
    if e.cache is not None:
        targets.append(("cache", e.cache["SecurityGroups"], _cache_port(e.cache)))
    every = sorted(tasks | {g for _, groups, _ in targets for g in groups})
    described = {
        group["GroupId"]: group
        for group in e.client("ec2").describe_security_groups(GroupIds=every)["SecurityGroups"]
    }

    def rules(group: str, direction: str) -> list[dict[str, Any]]:
        return list(described.get(group, {}).get(direction, []))

    checks = []
    for what, groups, port in targets:
        name = f"{BACKEND} → {what}"
        if port is None:
            detail = f"the {what} has no endpoint yet"
            hint = f"wait for it to become available (`hp status {e.env}`)"
            checks.append(Check("network", name, "warn", detail, hint))
            continue
        admitting = sorted(g for g in groups if _admits(rules(g, "IpPermissions"), tasks, port))
        leaving = sorted(
            g for g in tasks if _admits(rules(g, "IpPermissionsEgress"), set(groups), port, True)
        )
        hint = f"hp infra apply {e.env} (`hp infra drift {e.env}` shows what was changed by hand)"
        if not admitting:
            detail = (
                f"no ingress rule of the {what}'s groups ({', '.join(groups) or 'none'}) admits"
                f" the backend's groups ({', '.join(sorted(tasks))}) on {port}"
            )
            checks.append(Check("network", name, "fail", detail, hint))
        elif not leaving:
            detail = f"no egress rule of the backend's groups lets it out to the {what} on {port}"
            checks.append(Check("network", name, "fail", detail, hint))
        else:
            detail = f"{', '.join(admitting)} admits the backend on {port}"
            checks.append(Check("network", name, "pass", detail))
    return checks


def _cache_port(cache: dict[str, Any]) -> int | None:
    # Cluster mode: the configuration endpoint; otherwise the shard's primary endpoint.
    endpoints = [cache.get("ConfigurationEndpoint")] + [
        group.get("PrimaryEndpoint") for group in cache.get("NodeGroups", [])
    ]
    return next((int(e["Port"]) for e in endpoints if e and e.get("Port")), None)


def _admits(
    rules: Iterable[dict[str, Any]], peers: set[str], port: int, ranges: bool = False
) -> bool:
    """Whether one of `rules` covers TCP `port` for one of the `peers` groups, by group id;
    with `ranges`, for an address range too (an egress rule to the VPC or anywhere: where
    the data tier's addresses lie is not read)."""
    for rule in rules:
        protocol = rule.get("IpProtocol")
        covers = protocol == "-1" or (
            protocol in ("tcp", "6") and rule.get("FromPort", 0) <= port <= rule.get("ToPort", 0)
        )
        named = {pair.get("GroupId") for pair in rule.get("UserIdGroupPairs", [])}
        if covers and (named & peers or (ranges and rule.get("IpRanges"))):
            return True
    return False
