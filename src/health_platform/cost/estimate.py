"""The monthly estimate: each component's cost for an inventory, the prices and the
assumptions; ours beside the seed's literal configuration, and what our choices save."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from health_platform.cost.inventory import (
    DESIGN,
    SEED_CHOICES,
    SERVICES,
    Counts,
    Inventory,
    of_environment,
    seed_literal,
)
from health_platform.cost.tables import (
    PriceTable,
    default_assumptions,
    parse_overrides,
    price_table,
)
from health_platform.settings import EnvironmentSettings

# Dev's goal (issue 16): at most this share of the seed-literal bill.
DEV_GOAL = 0.5

# Every component, in the order the report lists them.
COMPONENTS = (
    "ECS Fargate",
    "Load balancer",
    "NAT gateways",
    "Public IPv4 addresses",
    "VPC interface endpoints",
    "RDS instances",
    "RDS storage and backups",
    "ElastiCache",
    "S3",
    "ECR",
    "CloudWatch",
    "CloudFront",
    "WAF",
    "KMS",
    "Secrets Manager",
    "Data transfer",
    "Security monitoring",
)


_ENGINE_NAMES = {"valkey": "Valkey", "redis": "Redis OSS"}


def _cache_table(engine: str) -> str:
    """The price table of an ElastiCache engine's nodes."""
    return "elasticache_valkey_node_hour" if engine == "valkey" else "elasticache_node_hour"


def _n(value: float) -> str:
    """A quantity as a person reads it: 1,000,000 and 3.71, not 1e+06 and 3.71429."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class Component:
    name: str
    monthly_usd: float
    detail: str


def _fargate(inv: Inventory, p: PriceTable, a: Mapping[str, float], spot: bool) -> float:
    vcpu, gb = (
        ("fargate_spot_vcpu_hour", "fargate_spot_gb_hour")
        if spot
        else (
            "fargate_vcpu_hour",
            "fargate_gb_hour",
        )
    )
    tasks = len(SERVICES) * (inv.tasks_per_service + a["extra_tasks_per_service"])
    hours = a["hours_per_month"] * inv.tasks_running_share
    return tasks * (inv.task_vcpu * p[vcpu] + inv.task_gb * p[gb]) * hours


def components(inv: Inventory, p: PriceTable, a: Mapping[str, float]) -> list[Component]:
    hours = a["hours_per_month"]
    tasks = inv.tasks_per_service + a["extra_tasks_per_service"]
    rds_hour = p.size("rds_instance_hour", inv.rds_class)
    primary = rds_hour * (2 if inv.rds_multi_az else 1)
    replica = rds_hour if inv.rds_read_replica else 0.0
    storage_copies = (2 if inv.rds_multi_az else 1) + (1 if inv.rds_read_replica else 0)
    cache_hour = p.size(_cache_table(inv.cache_engine), inv.cache_node_type)
    c = inv.counts
    endpoint_azs = c.interface_endpoints * inv.az_count
    log_months = inv.log_retention_days / 30
    web_acls = 1 if c.waf_rules else 0
    dr = a["dr_gb_copied_per_month"] if inv.dr_region else 0.0
    api_through_nat = 0.0 if c.interface_endpoints else a["aws_api_gb_per_month"]
    alb_addresses = inv.az_count if inv.alb_public_ipv4 else 0
    lines = [
        (
            _fargate(inv, p, a, inv.use_spot),
            f"{len(SERVICES)} services x {_n(tasks)} tasks x {_n(inv.task_vcpu)} vCPU /"
            f" {_n(inv.task_gb)} GB, {'Spot' if inv.use_spot else 'on demand'}"
            + (f", {inv.tasks_running_share:.0%} of the week" if inv.office_hours else ""),
        ),
        (
            hours * (p["alb_hour"] + a["alb_lcus"] * p["alb_lcu_hour"]),
            f"1 ALB, {_n(a['alb_lcus'])} LCU on average",
        ),
        (
            inv.nat_gateways * hours * p["nat_gateway_hour"]
            + (a["nat_gb_per_month"] + api_through_nat) * p["nat_gateway_gb"],
            f"{inv.nat_gateways} for {inv.az_count} zones, {_n(a['nat_gb_per_month'])} GB"
            + (f" + {_n(api_through_nat)} GB of AWS API calls" if api_through_nat else ""),
        ),
        (
            (inv.nat_gateways + alb_addresses) * hours * p["public_ipv4_hour"],
            f"{inv.nat_gateways} NAT Elastic IPs"
            + (f" + {alb_addresses} ALB nodes" if alb_addresses else "; the ALB has none (IPv6)"),
        ),
        (
            endpoint_azs * hours * p["interface_endpoint_az_hour"]
            + (a["aws_api_gb_per_month"] - api_through_nat) * p["interface_endpoint_gb"],
            (
                f"{c.interface_endpoints} endpoints x {inv.az_count} zones,"
                f" {_n(a['aws_api_gb_per_month'])} GB"
                if c.interface_endpoints
                else "none: AWS APIs through the NAT gateway"
            )
            + "; S3 through a free gateway",
        ),
        (
            (primary + replica) * hours * inv.database_running_share,
            f"{inv.rds_class}{' Multi-AZ' if inv.rds_multi_az else ''}"
            f"{' + read replica' if inv.rds_read_replica else ''}"
            + (f", {inv.database_running_share:.0%} of the week" if inv.office_hours else ""),
        ),
        (
            storage_copies * inv.rds_storage_gib * p["rds_gp3_gb_month"]
            + a["backup_gb_stored"] * p["backup_gb_month"] * (2 if inv.dr_region else 1),
            f"{storage_copies} x {inv.rds_storage_gib} GiB gp3, {_n(a['backup_gb_stored'])} GB of"
            f" backups{' (and their DR copy)' if inv.dr_region else ''}",
        ),
        (
            inv.cache_nodes * cache_hour * hours,
            f"{inv.cache_nodes} x {inv.cache_node_type} ({_ENGINE_NAMES[inv.cache_engine]})",
        ),
        (
            a["s3_gb_stored"] * p["s3_standard_gb_month"] * (2 if inv.dr_region else 1)
            + a["s3_requests_per_month"] / 1000 * p["s3_per_1000_requests"],
            f"{_n(a['s3_gb_stored'])} GB{' + DR replica' if inv.dr_region else ''},"
            f" {_n(a['s3_requests_per_month'])} requests",
        ),
        (a["ecr_gb_stored"] * p["ecr_gb_month"], f"{_n(a['ecr_gb_stored'])} GB of images"),
        (
            a["log_gb_per_month"]
            * (p["cloudwatch_logs_ingest_gb"] + log_months * p["cloudwatch_logs_store_gb_month"])
            + c.alarms * p["cloudwatch_alarm_month"]
            + c.dashboards * p["cloudwatch_dashboard_month"],
            f"{_n(a['log_gb_per_month'])} GB of logs kept {inv.log_retention_days} days,"
            f" {c.alarms} alarms, {c.dashboards} dashboard(s)",
        ),
        (
            a["cdn_gb_out_per_month"] * p["cloudfront_gb_out"]
            + a["requests_per_month"] / 10_000 * p["cloudfront_per_10000_https_requests"],
            f"{_n(a['cdn_gb_out_per_month'])} GB out, {_n(a['requests_per_month'])} requests",
        ),
        (
            web_acls * p["waf_web_acl_month"]
            + c.waf_rules * p["waf_rule_month"]
            + web_acls * a["requests_per_month"] / 1e6 * p["waf_per_million_requests"],
            f"1 web ACL, {c.waf_rules} rules" if web_acls else "none",
        ),
        (
            c.kms_keys * p["kms_key_month"]
            + a["kms_requests_per_month"] / 10_000 * p["kms_per_10000_requests"],
            f"{c.kms_keys} customer-managed keys",
        ),
        (c.secrets * p["secrets_manager_secret_month"], f"{c.secrets} secrets"),
        (
            a["cross_az_gb_per_month"] * p["cross_az_gb"] + dr * p["inter_region_gb"],
            f"{_n(a['cross_az_gb_per_month'])} GB between zones"
            + (f", {_n(dr)} GB to {inv.dr_region}" if inv.dr_region else ""),
        ),
        _security_monitoring(c, p, a),
    ]
    return [Component(n, usd, d) for n, (usd, d) in zip(COMPONENTS, lines, strict=True)]


def _security_monitoring(c: Counts, p: PriceTable, a: Mapping[str, float]) -> tuple[float, str]:
    """GuardDuty, Security Hub and Config where the stacks turn them on, and CloudTrail's
    data events on the uploads bucket."""
    usd = {
        "guardduty": a["management_events_millions"] * p["guardduty_per_million_management_events"]
        + a["flow_and_dns_gb_per_month"] * p["guardduty_flow_and_dns_gb"]
        + a["s3_data_events_millions"] * p["guardduty_per_million_s3_events"],
        "security_hub": a["security_hub_checks_per_month"] * p["security_hub_per_check"],
        "config": a["config_items_per_month"] * p["config_per_item"],
        "config_rules": a["config_evaluations_per_month"] * p["config_per_rule_evaluation"],
    }
    names = {
        "guardduty": "GuardDuty",
        "security_hub": "Security Hub",
        "config": "Config",
        "config_rules": "Config rules",
    }
    present = [service for service in usd if service in c.security_services]
    trails = c.cloudtrail_data_event_trails
    data_events = (
        trails * a["s3_data_events_millions"] * 10 * p["cloudtrail_per_100000_data_events"]
    )
    parts = [names[service] for service in present] + (["CloudTrail data events"] if trails else [])
    return (
        sum(usd[service] for service in present) + data_events,
        ", ".join(parts) if parts else "none in this environment's account",
    )


def savings(inv: Inventory, p: PriceTable, a: Mapping[str, float]) -> list[tuple[str, float]]:
    """The choices of ours that lower the bill, each with what it saves a month."""
    hours = a["hours_per_month"]
    found: list[tuple[str, float]] = []
    if inv.use_spot:
        saved = _fargate(inv, p, a, spot=False) - _fargate(inv, p, a, spot=True)
        found.append(("Fargate Spot instead of on demand", saved))
    if inv.nat_gateways < inv.az_count:
        fewer = inv.az_count - inv.nat_gateways
        saved = fewer * hours * (p["nat_gateway_hour"] + p["public_ipv4_hour"])
        found.append((f"{inv.nat_gateways} NAT gateway(s) for {inv.az_count} zones", saved))
    s3 = a["s3_gb_per_month"] * p["nat_gateway_gb"]
    if inv.counts.interface_endpoints:
        api = a["aws_api_gb_per_month"] * (p["nat_gateway_gb"] - p["interface_endpoint_gb"])
        found.append(("AWS API and S3 traffic through endpoints, not NAT", api + s3))
    else:
        found.append(("S3 traffic through its free gateway endpoint, not NAT", s3))
        endpoints = DESIGN.interface_endpoints * inv.az_count * hours
        saved = endpoints * p["interface_endpoint_az_hour"] - a["aws_api_gb_per_month"] * (
            p["nat_gateway_gb"] - p["interface_endpoint_gb"]
        )
        found.append(
            (f"No interface endpoints ({DESIGN.interface_endpoints} x {inv.az_count} zones)", saved)
        )
    if not inv.cache_replicated:
        node_hour = p.size(_cache_table(inv.cache_engine), inv.cache_node_type)
        replica = inv.cache_nodes * node_hour * hours
        found.append(("Redis without a replica (restored from its daily snapshot)", replica))
    if not inv.alb_public_ipv4:
        saved = inv.az_count * hours * p["public_ipv4_hour"]
        found.append(("No public IPv4 address on the load balancer (CloudFront over IPv6)", saved))
    found += _class_savings(inv, p, hours)
    if inv.office_hours:
        always = replace(inv, tasks_running_share=1.0, database_running_share=1.0)
        saved = sum(c.monthly_usd for c in components(always, p, a)) - sum(
            c.monthly_usd for c in components(inv, p, a)
        )
        found.append((f"Stopped outside office hours ({inv.office_hours})", saved))
    return found


def _class_savings(inv: Inventory, p: PriceTable, hours: float) -> list[tuple[str, float]]:
    """Instance classes of ours cheaper than the seed table's of the same size (Graviton),
    and the cache's engine (Valkey), priced on our counts of instances and nodes."""
    seed = seed_literal(inv)
    instances = (2 if inv.rds_multi_az else 1) + (1 if inv.rds_read_replica else 0)
    found: list[tuple[str, float]] = []
    rds = "rds_instance_hour"
    saved = (p.size(rds, seed.rds_class) - p.size(rds, inv.rds_class)) * instances
    if saved > 0:
        found.append(
            (
                f"{inv.rds_class} instead of the seed's {seed.rds_class}",
                saved * inv.database_running_share * hours,
            )
        )
    ours = p.size(_cache_table(inv.cache_engine), inv.cache_node_type)
    theirs = p.size(_cache_table(seed.cache_engine), seed.cache_node_type)
    if ours < theirs:
        found.append(
            (
                f"{inv.cache_node_type} ({_ENGINE_NAMES[inv.cache_engine]}) instead of the"
                f" seed's {seed.cache_node_type} ({_ENGINE_NAMES[seed.cache_engine]})",
                (theirs - ours) * inv.cache_nodes * hours,
            )
        )
    return found


@dataclass(frozen=True)
class Estimate:
    environment: str
    ours: list[Component]
    seed: list[Component]
    savings: list[tuple[str, float]]
    assumptions: dict[str, float]
    counts_from: str

    @property
    def monthly_usd(self) -> float:
        return sum(c.monthly_usd for c in self.ours)

    @property
    def seed_literal_usd(self) -> float:
        return sum(c.monthly_usd for c in self.seed)

    @property
    def share_of_seed(self) -> float:
        return self.monthly_usd / self.seed_literal_usd


def estimate(
    settings: EnvironmentSettings,
    cdk_out: Path,
    overrides: Sequence[str] = (),
    prices: PriceTable | None = None,
) -> Estimate:
    prices = prices or price_table()
    prices.require_region(settings.region)
    assumptions = default_assumptions(settings.name)
    assumptions.update(parse_overrides(overrides, list(assumptions)))
    ours = of_environment(settings, cdk_out)
    return Estimate(
        environment=settings.name,
        ours=components(ours, prices, assumptions),
        seed=components(seed_literal(ours), prices, assumptions),
        savings=savings(ours, prices, assumptions),
        assumptions=assumptions,
        counts_from=ours.counts.source,
    )


@dataclass(frozen=True)
class Report:
    estimates: list[Estimate]
    prices: PriceTable
    today: dt.date

    @property
    def stale(self) -> bool:
        return self.prices.stale(self.today)

    def to_json(self) -> dict[str, Any]:
        return {
            "price_table": {
                "region": self.prices.region,
                "checked": self.prices.checked.isoformat(),
                "stale": self.stale,
                "sources": dict(self.prices.sources),
            },
            "seed_literal_means": list(SEED_CHOICES),
            "environments": {
                e.environment: {
                    "monthly_usd": round(e.monthly_usd, 2),
                    "seed_literal_usd": round(e.seed_literal_usd, 2),
                    "components": [
                        {
                            "name": o.name,
                            "monthly_usd": round(o.monthly_usd, 2),
                            "seed_literal_usd": round(s.monthly_usd, 2),
                            "detail": o.detail,
                            "seed_literal_detail": s.detail,
                        }
                        for o, s in zip(e.ours, e.seed, strict=True)
                    ],
                    "savings": [
                        {"choice": choice, "monthly_usd": round(usd, 2)}
                        for choice, usd in e.savings
                    ],
                    "assumptions": e.assumptions,
                    "counts_from": e.counts_from,
                }
                for e in self.estimates
            },
        }


def report(
    environments: Sequence[EnvironmentSettings],
    cdk_out: Path,
    overrides: Sequence[str] = (),
    today: dt.date | None = None,
    prices: PriceTable | None = None,
) -> Report:
    """The estimate of each environment, ours and the seed's, with today's verdict on the
    price table's age."""
    prices = prices or price_table()
    return Report(
        estimates=[estimate(env, cdk_out, overrides, prices) for env in environments],
        prices=prices,
        today=today or dt.date.today(),
    )


def with_checked(prices: PriceTable, checked: dt.date) -> PriceTable:
    """The same prices as if read on another day (tests, and what-ifs)."""
    return replace(prices, checked=checked)
