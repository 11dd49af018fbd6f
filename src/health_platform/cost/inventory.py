"""What an environment runs that AWS bills: from its settings, with the counts the design
fixes (endpoints, keys, secrets, alarms, WAF rules) taken from the synthesized templates when
`cdk.out/` has them. And the same for the seed specification's literal configuration."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from health_platform.infra import naming
from health_platform.infra.edge.waf_rules import MANAGED_RULE_GROUPS
from health_platform.settings import EcsSettings, EnvironmentSettings

# The services stack runs two ECS services of the environment's task size.
SERVICES = ("frontend", "backend")

_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True)
class Counts:
    """What the stacks create in numbers the environment file does not set."""

    interface_endpoints: int  # billed in every zone of the VPC
    kms_keys: int
    secrets: int  # Secrets Manager
    alarms: int
    dashboards: int
    waf_rules: int  # 0: no web ACL
    # The account's security services the stacks create (GuardDuty, Security Hub, Config);
    # billed by what they watch, in the account that holds them.
    security_services: frozenset[str]
    cloudtrail_data_event_trails: int
    source: str


# The design's counts, for when no templates have been synthesized: the seven interface
# endpoints of infra/network/endpoints.py (tests/unit/test_cost.py ties the two), the keys
# of a dev or staging synthesis, the database and cache secrets, the WAF's rate limit, its
# managed groups and its body-rule label rule.
DESIGN = Counts(
    interface_endpoints=7,
    kms_keys=6,
    secrets=2,
    alarms=16,
    dashboards=1,
    waf_rules=1 + len(MANAGED_RULE_GROUPS) + 1,
    security_services=frozenset(("guardduty", "security_hub", "config", "config_rules")),
    cloudtrail_data_event_trails=1,
    source="the design (no synthesized templates; `hp infra synth ENV` counts them exactly)",
)


@dataclass(frozen=True)
class Inventory:
    name: str
    region: str
    az_count: int
    nat_gateways: int
    alb_public_ipv4: bool  # one address per zone; none when CloudFront reaches it over IPv6
    task_vcpu: float
    task_gb: float
    tasks_per_service: float  # the scaling floor, averaged over a week
    use_spot: bool
    rds_class: str
    rds_multi_az: bool
    rds_read_replica: bool
    rds_storage_gib: int
    cache_node_type: str
    cache_engine: str
    cache_nodes: int
    cache_replicated: bool
    log_retention_days: int
    dr_region: str | None
    counts: Counts
    # Office hours (dev): the share of a week the tasks and the database run, and the hours.
    tasks_running_share: float = 1.0
    database_running_share: float = 1.0
    office_hours: str | None = None


# Each billed security service, by the resource that turns it on: the recorder's items and
# the pack's rule evaluations are billed apart (an account with `security_services:
# existing` records with its own recorder and still evaluates the environment's pack).
SECURITY_SERVICE_TYPES = {
    "guardduty": "AWS::GuardDuty::Detector",
    "security_hub": "AWS::SecurityHub::Hub",
    "config": "AWS::Config::ConfigurationRecorder",
    "config_rules": "AWS::Config::ConformancePack",
}


def count_templates(env: str, cdk_out: Path) -> Counts | None:
    """The counts in `env`'s synthesized templates, or None when there are none."""
    parts = (
        naming.NETWORK,
        naming.DATA,
        naming.SERVICES,
        naming.OBSERVABILITY,
        naming.EDGE,
        naming.DISASTER_RECOVERY,
    )
    files = [cdk_out / f"{naming.stack_name(env, part)}.template.json" for part in parts]
    found = [f for f in files if f.is_file()]
    if not found:
        return None
    types: Counter[str] = Counter()
    endpoints = waf_rules = data_event_trails = 0
    for file in found:
        for resource in json.loads(file.read_text("utf-8")).get("Resources", {}).values():
            kind, properties = resource.get("Type", ""), resource.get("Properties", {})
            types[kind] += 1
            if kind == "AWS::EC2::VPCEndpoint" and properties.get("VpcEndpointType") == "Interface":
                endpoints += 1
            if kind == "AWS::WAFv2::WebACL":
                waf_rules += len(properties.get("Rules", []))
            if kind == "AWS::CloudTrail::Trail" and (
                properties.get("EventSelectors") or properties.get("AdvancedEventSelectors")
            ):
                data_event_trails += 1
    return Counts(
        interface_endpoints=endpoints,
        kms_keys=types["AWS::KMS::Key"],
        secrets=types["AWS::SecretsManager::Secret"],
        alarms=types["AWS::CloudWatch::Alarm"],
        dashboards=types["AWS::CloudWatch::Dashboard"],
        waf_rules=waf_rules,
        security_services=frozenset(
            service for service, kind in SECURITY_SERVICE_TYPES.items() if types[kind]
        ),
        cloudtrail_data_event_trails=data_event_trails,
        source=f"the synthesized templates in {cdk_out}",
    )


def _hour(cron: str) -> tuple[int, set[int]] | None:
    """The hour and weekdays (0 = Monday) of an Application Auto Scaling cron that fires
    once a day at a fixed hour, e.g. `0 7 ? * MON-FRI *`; None for any other shape."""
    fields = cron.split()
    if len(fields) != 6 or not fields[1].isdigit():
        return None
    days: set[int] = set()
    for item in fields[4].split(","):
        if item in ("*", "?"):
            days.update(range(7))
            continue
        first, _, last = item.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            return None
        start, end = _DAYS.index(first), _DAYS.index(last or first)
        days.update(range(start, end + 1))
    return int(fields[1]), days


def average_floor(ecs: EcsSettings) -> float:
    """The scaling floor averaged over a week: `min_tasks`, raised and lowered by the
    scheduled actions (prod: 4 tasks on weekday business hours, 2 otherwise)."""
    actions = [(_hour(s.cron), s.min_tasks) for s in ecs.scheduled_scaling]
    if not actions or any(when is None for when, _ in actions):
        return float(ecs.min_tasks)
    floor, hours = ecs.min_tasks, []
    for week_hour in range(2 * 7 * 24):  # the first week settles what holds at its start
        day, hour = divmod(week_hour % (7 * 24), 24)
        for when, minimum in actions:
            if when is not None and when[0] == hour and day in when[1]:
                floor = minimum
        if week_hour >= 7 * 24:
            hours.append(floor)
    return sum(hours) / len(hours)


def _running(settings: EnvironmentSettings) -> dict[str, Any]:
    hours = settings.office_hours
    if hours is None:
        return {}
    return {
        "tasks_running_share": hours.running_share(database=False),
        "database_running_share": hours.running_share(database=True),
        "office_hours": hours.describe(),
    }


def _designed(settings: EnvironmentSettings) -> Counts:
    """The design's counts as the environment file trims them: no interface endpoints (dev),
    the account's own security services (`security_services: existing`: only the pack's
    rules are the environment's, and no Config key)."""
    counts = replace(
        DESIGN,
        interface_endpoints=DESIGN.interface_endpoints * settings.network.interface_endpoints,
    )
    if settings.creates_security_services:
        return counts
    return replace(
        counts, security_services=frozenset({"config_rules"}), kms_keys=counts.kms_keys - 1
    )


def of_environment(settings: EnvironmentSettings, cdk_out: Path) -> Inventory:
    counts = count_templates(settings.name, cdk_out) or _designed(settings)
    cache = settings.elasticache
    return Inventory(
        name=settings.name,
        region=settings.region,
        az_count=settings.network.az_count,
        nat_gateways=settings.network.nat_gateways,
        alb_public_ipv4=settings.edge.origin_ip != "ipv6",
        task_vcpu=settings.ecs.cpu / 1024,
        task_gb=settings.ecs.memory_mib / 1024,
        tasks_per_service=average_floor(settings.ecs),
        **_running(settings),
        use_spot=settings.ecs.use_spot,
        rds_class=settings.rds.instance_class,
        rds_multi_az=settings.rds.multi_az,
        rds_read_replica=settings.rds.read_replica,
        rds_storage_gib=settings.rds.allocated_storage_gib,
        cache_node_type=cache.node_type,
        cache_engine=cache.engine,
        cache_nodes=cache.shards * (1 + cache.replicas_per_shard),
        cache_replicated=cache.replicas_per_shard > 0,
        log_retention_days=settings.ecs.log_retention_days,
        dr_region=settings.dr_region,
        counts=counts,
    )


@dataclass(frozen=True)
class SeedTable:
    """One of the seed's "Environment Configurations" tables."""

    az_count: int
    cpu: int
    memory_mib: int
    min_tasks: int
    rds_class: str
    read_replica: bool
    cache_node_type: str


# seed/cloud-infrastructure.md, "Environment Configurations".
SEED_TABLES: dict[str, SeedTable] = {
    "dev": SeedTable(2, 256, 512, 1, "db.t3.micro", False, "cache.t3.micro"),
    "staging": SeedTable(2, 512, 1024, 1, "db.t3.small", False, "cache.t3.small"),
    "prod": SeedTable(3, 1024, 2048, 2, "db.r6g.large", True, "cache.r6g.large"),
}

# What the seed's components say, where it differs from what we build:
SEED_CHOICES = (
    "its environment table's sizes and task floor (no business-hours schedule)",
    "a NAT gateway in every zone (its diagram: one per AZ)",
    "Fargate on demand (Spot is only a suggestion of its Cost Optimization section)",
    "RDS Multi-AZ (component 4), a read replica where its table says so",
    "Redis with Multi-AZ replication (component 5): one shard, a primary and a replica",
    "interface endpoints for ECR and CloudWatch only (component 1); S3 through a gateway",
    "Parameter Store for secrets (component 9), no Secrets Manager",
    "no WAF (the seed names none)",
    "the same security monitoring as ours (its Security Monitoring section asks for anomaly"
    " and drift detection and names no service)",
)


def seed_literal(ours: Inventory) -> Inventory:
    """The seed's literal configuration of the same environment; where the seed is silent
    (storage, retention, counts of keys and alarms, traffic) it is ours."""
    table = SEED_TABLES.get(ours.name)
    sized = ours
    if table is not None:
        sized = replace(
            ours,
            az_count=table.az_count,
            task_vcpu=table.cpu / 1024,
            task_gb=table.memory_mib / 1024,
            tasks_per_service=float(table.min_tasks),
            rds_class=table.rds_class,
            rds_read_replica=table.read_replica,
            cache_node_type=table.cache_node_type,
        )
    return replace(
        sized,
        nat_gateways=sized.az_count,
        alb_public_ipv4=True,
        use_spot=False,
        cache_engine="redis",  # component 5: ElastiCache Redis
        tasks_running_share=1.0,
        database_running_share=1.0,
        office_hours=None,
        rds_multi_az=True,
        cache_nodes=2,
        cache_replicated=True,
        counts=replace(
            ours.counts,
            interface_endpoints=4,  # ecr.api, ecr.dkr, logs, monitoring
            secrets=0,
            waf_rules=0,
            source=ours.counts.source,
        ),
    )
