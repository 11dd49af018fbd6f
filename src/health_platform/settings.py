"""The typed model of an environment (dev, staging, prod) and its loader.

Environment differences are data: `environments/<name>.yaml` holds every value that differs
between environments, plus what synthesis needs without calling AWS (account, region,
availability zones). Loading validates everything before any construct is built, and an
invalid file yields one error that lists every problem with its path, for example
`prod.rds.backup_retention_days: 40 is above 35`.

Validation has two passes: the structural one (types, ranges, unknown keys) is pydantic's;
the rules that relate fields to each other then run on every section that is structurally
valid, so a file's problems are all reported in one go.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from health_platform.errors import InvalidInputError, UnknownEnvironmentError
from health_platform.office_hours import OfficeHours
from health_platform.paths import environments_dir

# Values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Memory (MiB) that Fargate accepts for each task CPU value (CPU units).
FARGATE_MEMORY_BY_CPU: dict[int, range] = {
    256: range(512, 2048 + 1, 512),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _matches(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


def _https_url(value: str) -> str:
    if not re.match(r"^https://[^\s/]+(/\S*)?$", value):
        raise ValueError(f"{value!r} is not an https:// URL")
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(map(str, LOG_RETENTION_DAYS))
        raise ValueError(f"{value} is not a retention CloudWatch Logs accepts ({allowed})")
    return value


Region = Annotated[str, AfterValidator(_matches(_REGION, "an AWS region name (e.g. us-east-1)"))]
Hostname = Annotated[str, AfterValidator(_matches(_HOSTNAME, "a lower-case DNS name"))]
Email = Annotated[str, AfterValidator(_matches(_EMAIL, "an email address"))]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DomainSettings(_Strict):
    name: Hostname = Field(description="The platform's public name, e.g. dev.health.example.com")
    hosted_zone_name: Hostname = Field(description="The Route 53 public zone that holds `name`")
    hosted_zone_id: Annotated[str, Field(pattern=r"^Z[A-Z0-9]{1,32}$")]


class NetworkSettings(_Strict):
    vpc_cidr: ipaddress.IPv4Network
    az_count: Annotated[int, Field(ge=2, le=6)]
    availability_zones: list[str]
    # One NAT gateway per AZ is the seed's layout; fewer is a documented cost option (dev).
    nat_gateways: Annotated[int, Field(ge=1, le=6)]
    # Interface endpoints (ECR, logs, metrics, secrets, SSM, KMS) keep AWS API calls off the
    # internet; each costs about $7 a month in every zone. Without them (a cost option for
    # dev) the tasks reach those APIs through the NAT gateway, over TLS as always; S3 keeps
    # its free gateway endpoint either way.
    interface_endpoints: bool = True
    flow_log_retention_days: LogRetentionDays


class ScheduledScaling(_Strict):
    """A recurring change of the task range, e.g. a higher floor during business hours."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")]
    # Application Auto Scaling cron, UTC: minute hour day-of-month month day-of-week year.
    cron: Annotated[str, Field(pattern=r"^\S+ \S+ \S+ \S+ \S+ \S+$")]
    min_tasks: Annotated[int, Field(ge=0)]
    max_tasks: Annotated[int, Field(ge=1, le=1000)]


class EcsSettings(_Strict):
    cpu: int
    memory_mib: int
    min_tasks: Annotated[int, Field(ge=1)]
    max_tasks: Annotated[int, Field(ge=1, le=1000)]
    # Fargate Spot costs ~70% less and may be interrupted: fine for dev, not for patients.
    use_spot: bool = False
    log_retention_days: LogRetentionDays
    scheduled_scaling: list[ScheduledScaling] = []


class EdgeSettings(_Strict):
    # The region's managed prefix list com.amazonaws.global.cloudfront.origin-facing: the
    # load balancer admits only CloudFront. Named here because looking it up needs AWS.
    cloudfront_prefix_list_id: Annotated[str, Field(pattern=r"^pl-[0-9a-f]{8,17}$")]
    # How CloudFront reaches the load balancer. `ipv6`: the ALB has no public IPv4 address
    # (AWS bills each, two or three per ALB) and admits only CloudFront's IPv6 origin-facing
    # list; `ipv4`: public IPv4 addresses, as before; `dualstack`: both, the step between
    # them for an environment deployed over IPv4 (docs/operations.md). No default: the
    # switch of a deployed environment takes that step first.
    origin_ip: Literal["ipv4", "dualstack", "ipv6"]
    # Requests per client address in any 5 minutes before WAF blocks it.
    rate_limit_per_5_minutes: Annotated[int, Field(ge=100, le=2_000_000_000)]


class DatabaseSettings(_Strict):
    instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")]
    multi_az: bool = True
    read_replica: bool = False
    allocated_storage_gib: Annotated[int, Field(ge=20, le=65536)]
    max_allocated_storage_gib: Annotated[int, Field(ge=21, le=65536)]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    deletion_protection: bool
    log_retention_days: LogRetentionDays


class CacheSettings(_Strict):
    # Valkey: the open-source continuation of Redis OSS 7 that ElastiCache offers about 20%
    # cheaper per node; a drop-in for the API's client. No default: switching an existing
    # cache's engine is an upgrade to choose (docs/operations.md).
    engine: Literal["valkey", "redis"]
    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")]
    shards: Annotated[int, Field(ge=1, le=500)] = 1
    replicas_per_shard: Annotated[int, Field(ge=0, le=5)]
    snapshot_retention_days: Annotated[int, Field(ge=1, le=35)]


class SlackSettings(_Strict):
    """A Slack channel that AWS Chatbot posts the alerts to. The workspace must have been
    authorized once in the AWS Chatbot console, which shows its id."""

    workspace_id: Annotated[str, Field(pattern=r"^T[A-Z0-9]{8,}$")]
    channel_id: Annotated[str, Field(pattern=r"^[CG][A-Z0-9]{8,}$")]


def _no_webhook(value: object) -> None:
    raise ValueError(
        "a Slack webhook cannot confirm an SNS subscription, so it would never receive an"
        " alert; remove it and set alerts.slack.workspace_id and alerts.slack.channel_id"
        " (AWS Chatbot) instead"
    )


class AlertSettings(_Strict):
    emails: Annotated[list[Email], Field(min_length=1)]
    pagerduty_endpoint: HttpsUrl | None = None
    slack: SlackSettings | None = None
    # Refused: named so that a file written for an earlier version says what to do.
    slack_endpoint: Annotated[object, AfterValidator(_no_webhook)] = None


class BudgetSettings(_Strict):
    monthly_limit_usd: Annotated[float, Field(gt=0)]


class EnvironmentSettings(_Strict):
    """One environment, exactly as `environments/<name>.yaml` describes it."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")]
    account: Annotated[str, Field(pattern=r"^\d{12}$")]
    region: Region
    dr_region: Region | None = None
    domain: DomainSettings
    network: NetworkSettings
    ecs: EcsSettings
    edge: EdgeSettings
    rds: DatabaseSettings
    elasticache: CacheSettings
    alerts: AlertSettings
    budget: BudgetSettings
    # GuardDuty's detector, Security Hub, IAM Access Analyzer and AWS Config's recorder and
    # delivery channel exist once per account and region. `existing`: the account has
    # them already (its AWS Organization's, or another environment's in the same account
    # and region), so the stacks create none and keep only what sends their findings to
    # the alert topic, and the HIPAA conformance pack (docs/operations.md).
    security_services: Literal["create", "existing"] = "create"
    # A cost option for dev: outside these hours the database is stopped and the services
    # run no task (health_platform.office_hours; `hp wake` starts them early).
    office_hours: OfficeHours | None = None

    @property
    def recovery_point_days(self) -> int:
        """How long AWS Backup keeps the database's recovery points (RDS's own automated
        backups keep rds.backup_retention_days): longer with office hours, over a weekend."""
        retention = self.rds.backup_retention_days
        return self.office_hours.recovery_point_days(retention) if self.office_hours else retention

    @property
    def backup_frequency_days(self) -> int:
        """At most this many days between two recovery points (office hours: a weekend)."""
        return self.office_hours.longest_gap_days if self.office_hours else 1

    @property
    def dual_stack(self) -> bool:
        """The VPC and the load balancer have IPv6 (CloudFront may reach it over IPv6)."""
        return self.edge.origin_ip != "ipv4"

    @property
    def is_production(self) -> bool:
        return self.name == "prod" or self.name.startswith("prod-")

    @property
    def creates_security_services(self) -> bool:
        return self.security_services == "create"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an environment file, at a dotted path inside it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidEnvironmentError(InvalidInputError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"Invalid environment configuration ({len(self.problems)} {noun}):\n{lines}"
        )


# --- rules that relate fields to each other ---------------------------------------------------


def _rule_availability_zones(env: EnvironmentSettings) -> Iterable[Problem]:
    net = env.network
    path = f"{env.name}.network.availability_zones"
    for index, zone in enumerate(net.availability_zones):
        if not re.fullmatch(re.escape(env.region) + r"[a-z]", zone):
            yield Problem(f"{path}[{index}]", f"{zone!r} is not a zone of region {env.region}")
    if len(set(net.availability_zones)) != len(net.availability_zones):
        yield Problem(path, "lists a zone more than once")
    if len(net.availability_zones) != net.az_count:
        yield Problem(
            path, f"names {len(net.availability_zones)} zones but az_count is {net.az_count}"
        )
    if net.nat_gateways > net.az_count:
        yield Problem(
            f"{env.name}.network.nat_gateways",
            f"{net.nat_gateways} is above az_count ({net.az_count})",
        )


def _rule_vpc_size(env: EnvironmentSettings) -> Iterable[Problem]:
    if env.network.vpc_cidr.prefixlen > 16:
        yield Problem(
            f"{env.name}.network.vpc_cidr",
            f"{env.network.vpc_cidr} is smaller than a /16, too small for three subnet tiers"
            " in every zone",
        )


def _rule_fargate_size(env: EnvironmentSettings) -> Iterable[Problem]:
    ecs = env.ecs
    allowed = FARGATE_MEMORY_BY_CPU.get(ecs.cpu)
    if allowed is None:
        cpus = ", ".join(map(str, FARGATE_MEMORY_BY_CPU))
        yield Problem(f"{env.name}.ecs.cpu", f"{ecs.cpu} is not a Fargate CPU value ({cpus})")
    elif ecs.memory_mib not in allowed:
        yield Problem(
            f"{env.name}.ecs.memory_mib",
            f"{ecs.memory_mib} MiB is not valid with {ecs.cpu} CPU units on Fargate"
            f" ({allowed.start}-{allowed.stop - 1} in steps of {allowed.step})",
        )
    if ecs.min_tasks > ecs.max_tasks:
        yield Problem(
            f"{env.name}.ecs.min_tasks",
            f"{ecs.min_tasks} is above max_tasks ({ecs.max_tasks})",
        )
    for index, schedule in enumerate(ecs.scheduled_scaling):
        if schedule.min_tasks > schedule.max_tasks:
            yield Problem(
                f"{env.name}.ecs.scheduled_scaling[{index}].min_tasks",
                f"{schedule.min_tasks} is above max_tasks ({schedule.max_tasks})",
            )


def _rule_database(env: EnvironmentSettings) -> Iterable[Problem]:
    rds = env.rds
    if rds.max_allocated_storage_gib <= rds.allocated_storage_gib:
        yield Problem(
            f"{env.name}.rds.max_allocated_storage_gib",
            f"{rds.max_allocated_storage_gib} must be above allocated_storage_gib"
            f" ({rds.allocated_storage_gib}) for storage autoscaling",
        )


def _rule_production(env: EnvironmentSettings) -> Iterable[Problem]:
    if env.is_production:
        if not env.rds.deletion_protection:
            yield Problem(f"{env.name}.rds.deletion_protection", "must be true in production")
        if env.dr_region is None:
            yield Problem(f"{env.name}.dr_region", "is required in production")
    if env.dr_region is not None and env.dr_region == env.region:
        yield Problem(f"{env.name}.dr_region", f"{env.dr_region} is the primary region itself")


def _rule_office_hours(env: EnvironmentSettings) -> Iterable[Problem]:
    hours = env.office_hours
    if hours is None:
        return
    path = f"{env.name}.office_hours"
    if env.is_production:
        yield Problem(path, "production runs around the clock; remove office_hours")
    if env.ecs.scheduled_scaling:
        # Their actions would give the services tasks at night, against a stopped database.
        yield Problem(
            f"{env.name}.ecs.scheduled_scaling",
            "the office hours set the task range themselves; remove scheduled_scaling",
        )
    if env.rds.read_replica:
        # RDS stops no instance that has a read replica (USER_StopInstance.html).
        yield Problem(path, "RDS cannot stop a database that has a read replica (rds.read_replica)")
    for key, message in hours.problems():
        yield Problem(f"{path}.{key}", message)


def _rule_domain(env: EnvironmentSettings) -> Iterable[Problem]:
    domain = env.domain
    if domain.name != domain.hosted_zone_name and not domain.name.endswith(
        "." + domain.hosted_zone_name
    ):
        yield Problem(
            f"{env.name}.domain.name",
            f"{domain.name} is not inside hosted zone {domain.hosted_zone_name}",
        )


_RULES: tuple[Callable[[EnvironmentSettings], Iterable[Problem]], ...] = (
    _rule_availability_zones,
    _rule_vpc_size,
    _rule_fargate_size,
    _rule_database,
    _rule_production,
    _rule_office_hours,
    _rule_domain,
)


def _rules_across(envs: Sequence[EnvironmentSettings]) -> Iterable[Problem]:
    """Environments share peering and VPN space one day; their CIDRs must never overlap.
    A public hosted zone answers the internet only from the account it is delegated to, so
    environments in different accounts need zones of their own (a subdomain delegated
    from the parent zone): ACM's DNS validation in any other account never completes.
    The account's security services exist once per account and region, so only one
    environment there may create them; a second one's deployment would fail on them."""
    for i, first in enumerate(envs):
        for second in envs[i + 1 :]:
            if first.network.vpc_cidr.overlaps(second.network.vpc_cidr):
                yield Problem(
                    f"{second.name}.network.vpc_cidr",
                    f"{second.network.vpc_cidr} overlaps {first.name}'s {first.network.vpc_cidr}",
                )
            zone = first.domain.hosted_zone_name
            if first.account != second.account and zone == second.domain.hosted_zone_name:
                yield Problem(
                    f"{second.name}.domain.hosted_zone_name",
                    f"{zone} is also {first.name}'s zone, in another account; give"
                    f" {second.name} a zone of its own (e.g. {second.domain.name}, delegated"
                    f" from {zone} with an NS record)",
                )
            same_place = (first.account, first.region) == (second.account, second.region)
            if same_place and first.creates_security_services and second.creates_security_services:
                yield Problem(
                    f"{second.name}.security_services",
                    f"{first.name} also creates the security services of account"
                    f" {first.account} in {first.region} (GuardDuty, Security Hub, IAM Access"
                    " Analyzer, the AWS Config recorder), which exist once per account and"
                    f" region; set security_services: existing in {second.name} or"
                    f" {first.name}",
                )


# --- pydantic's messages, said the way this project says them ---------------------------------


def _number(value: object) -> object:
    """0.0 reads as 0 in a message about a limit."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _describe(error: Any) -> str:
    kind, value = error["type"], error.get("input")
    ctx = {key: _number(limit) for key, limit in error.get("ctx", {}).items()}
    match kind:
        case "less_than_equal":
            return f"{value} is above {ctx['le']}"
        case "less_than":
            return f"{value} is not below {ctx['lt']}"
        case "greater_than_equal":
            return f"{value} is below {ctx['ge']}"
        case "greater_than":
            return f"{value} is not above {ctx['gt']}"
        case "extra_forbidden":
            return "is not a known key"
        case "missing":
            return "is required"
        case "string_pattern_mismatch":
            return f"{value!r} does not match the pattern {ctx['pattern']}"
        case "too_short":
            return f"needs at least {ctx['min_length']} item(s)"
        case "int_parsing" | "int_type" | "int_from_float":
            return f"{value!r} is not a whole number"
        case "bool_parsing" | "bool_type":
            return f"{value!r} is not true or false"
        case "literal_error":
            return f"{value!r} is not {ctx['expected']}"
        case "ip_v4_network" | "ip_v4_address":
            return f"{value!r} is not an IPv4 network in CIDR notation"
        case "value_error":
            return str(ctx.get("error", error["msg"]))
        case _:
            return str(error["msg"])


def _path(name: str, location: Sequence[int | str]) -> str:
    path = name
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _valid_sections(raw: dict[str, Any]) -> dict[str, Any]:
    """The top-level values of `raw` that validate on their own."""
    valid: dict[str, Any] = {}
    for key, field_info in EnvironmentSettings.model_fields.items():
        if key not in raw:
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(field_info.rebuild_annotation())
        try:
            valid[key] = adapter.validate_python(raw[key])
        except ValidationError:
            continue
    return valid


def _parse(name: str, raw: object) -> tuple[EnvironmentSettings | None, list[Problem]]:
    """Validate one file. The cross-field rules run even when some sections are invalid,
    on the sections that are valid, so one pass reports every problem of the file."""
    if not isinstance(raw, dict):
        return None, [Problem(name, "the file must be a mapping of keys to values")]
    declared = raw.get("name", name)
    if declared != name:
        return None, [Problem(f"{name}.name", f"{declared!r} differs from the file name {name!r}")]
    try:
        env = EnvironmentSettings.model_validate(raw)
        problems: list[Problem] = []
    except ValidationError as invalid:
        problems = [Problem(_path(name, e["loc"]), _describe(e)) for e in invalid.errors()]
        env = EnvironmentSettings.model_construct(**_valid_sections(raw))
    reported = tuple(p.path for p in problems)
    for rule in _RULES:
        try:
            found = list(rule(env))
        except AttributeError:
            if not reported:
                raise  # the file is whole: this is a bug in the rule, not a missing section
            continue  # a section this rule reads is invalid and was reported above
        problems += [p for p in found if not p.path.startswith(reported)]
    return (None if reported else env), problems


def _read(path: Path) -> tuple[object, list[Problem]]:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), []
    except yaml.YAMLError as bad:
        where = getattr(bad, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        reason = getattr(bad, "problem", None) or str(bad)
        return None, [Problem(path.stem, f"is not valid YAML{line}: {reason}")]


def available_environments(directory: Path | None = None) -> list[str]:
    directory = directory or environments_dir()
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_environments(
    names: Sequence[str] | None = None, directory: Path | None = None
) -> list[EnvironmentSettings]:
    """Load and validate environments (all of them when `names` is None).

    Every file is validated, even when only some are asked for, because the rules across
    environments (non-overlapping CIDRs) need all of them. Raises InvalidEnvironmentError
    listing every problem in every file.
    """
    directory = directory or environments_dir()
    known = available_environments(directory)
    if not known:
        raise InvalidInputError(f"No environment files (*.yaml) found in {directory}.")
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise UnknownEnvironmentError(unknown, known)
    problems: list[Problem] = []
    loaded: list[EnvironmentSettings] = []
    for name in known:
        raw, read_problems = _read(directory / f"{name}.yaml")
        problems += read_problems
        if read_problems:
            continue
        env, parse_problems = _parse(name, raw)
        problems += parse_problems
        if env is not None:
            loaded.append(env)
    problems += _rules_across(loaded)
    if problems:
        raise InvalidEnvironmentError(problems)
    wanted = set(names) if names else set(known)
    return [env for env in loaded if env.name in wanted]


def load_environment(name: str, directory: Path | None = None) -> EnvironmentSettings:
    return load_environments([name], directory)[0]
