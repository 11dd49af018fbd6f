"""`hp infra status`: what is deployed and how it is doing, read from AWS.

Works against whatever endpoint boto3 is pointed at (AWS_ENDPOINT_URL included), which is
how the tests run it against moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from health_platform.contract import SERVICES
from health_platform.infra import naming
from health_platform.ops.aws import (
    ClientFactory,
    aws_errors,
    boto_clients,
    error_code,
    stack_missing,
)
from health_platform.ops.office_hours import ASLEEP
from health_platform.settings import EnvironmentSettings

NOT_DEPLOYED = "NOT DEPLOYED"


@dataclass(frozen=True)
class StackStatus:
    name: str
    region: str
    status: str
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.status.endswith("_COMPLETE") and "ROLLBACK" not in self.status


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    desired: int
    running: int
    pending: int
    rollout: str
    rollout_reason: str

    @property
    def healthy(self) -> bool:
        return self.running >= self.desired and self.rollout in ("COMPLETED", "")


@dataclass(frozen=True)
class TargetStatus:
    service: str
    target: str
    state: str
    reason: str

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


@dataclass(frozen=True)
class ResourceStatus:
    kind: str
    name: str
    status: str
    asleep: bool = False  # stopped outside its office hours, as scheduled

    @property
    def healthy(self) -> bool:
        return self.status == "available" or self.asleep


@dataclass(frozen=True)
class AlarmStatus:
    name: str
    reason: str


@dataclass
class EnvironmentStatus:
    environment: str
    stacks: list[StackStatus] = field(default_factory=list)
    services: list[ServiceStatus] = field(default_factory=list)
    targets: list[TargetStatus] = field(default_factory=list)
    data: list[ResourceStatus] = field(default_factory=list)
    alarms: list[AlarmStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        parts: list[Any] = [*self.stacks, *self.services, *self.targets, *self.data]
        return all(p.healthy for p in parts) and not self.alarms


def _stack(client: Any, name: str, region: str) -> StackStatus:
    try:
        (stack,) = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as missing:
        if stack_missing(missing):
            return StackStatus(name, region, NOT_DEPLOYED)
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return StackStatus(
        name, region, stack["StackStatus"], stack.get("StackStatusReason", ""), outputs
    )


def _services(ecs: Any, elbv2: Any, cluster: str) -> tuple[list[ServiceStatus], list[TargetStatus]]:
    try:
        described = ecs.describe_services(cluster=cluster, services=list(SERVICES))
    except ClientError as missing:
        if error_code(missing) == "ClusterNotFoundException":
            return [], []
        raise
    services: list[ServiceStatus] = []
    targets: list[TargetStatus] = []
    for service in described["services"]:
        primary: dict[str, Any] = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        services.append(
            ServiceStatus(
                service["serviceName"],
                service["desiredCount"],
                service["runningCount"],
                service["pendingCount"],
                primary.get("rolloutState", ""),
                primary.get("rolloutStateReason", ""),
            )
        )
        for balancer in service.get("loadBalancers", []):
            health = elbv2.describe_target_health(TargetGroupArn=balancer["targetGroupArn"])
            for description in health["TargetHealthDescriptions"]:
                state = description["TargetHealth"]
                targets.append(
                    TargetStatus(
                        service["serviceName"],
                        f"{description['Target']['Id']}:{description['Target'].get('Port', '')}",
                        state["State"],
                        " ".join(filter(None, (state.get("Reason"), state.get("Description")))),
                    )
                )
    return services, targets


def _databases(rds: Any, identifiers: list[str]) -> list[ResourceStatus]:
    found = []
    for identifier in identifiers:
        try:
            (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
            status = instance["DBInstanceStatus"]
        except ClientError as missing:
            if error_code(missing) != "DBInstanceNotFound":
                raise
            status = NOT_DEPLOYED
        found.append(ResourceStatus("database", identifier, status))
    return found


def _cache(elasticache: Any, identifier: str) -> ResourceStatus:
    try:
        (group,) = elasticache.describe_replication_groups(ReplicationGroupId=identifier)[
            "ReplicationGroups"
        ]
        status = group["Status"]
    except ClientError as missing:
        if error_code(missing) != "ReplicationGroupNotFoundFault":
            raise
        status = NOT_DEPLOYED
    return ResourceStatus("cache", identifier, status)


def _alarms(cloudwatch: Any, prefix: str) -> list[AlarmStatus]:
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        StateValue="ALARM", AlarmNamePrefix=prefix
    )
    return [
        AlarmStatus(alarm["AlarmName"], alarm.get("StateReason", ""))
        for page in pages
        for alarm in page["MetricAlarms"]
        # Filtered here too: some endpoints (moto) apply only one of the two filters.
        if alarm["StateValue"] == "ALARM"
    ]


def environment_status(
    settings: EnvironmentSettings,
    clients: ClientFactory | None = None,
    now: datetime | None = None,
) -> EnvironmentStatus:
    client = clients or boto_clients()
    env, region = settings.name, settings.region
    result = EnvironmentStatus(env)
    with aws_errors(f"read the status of {env}"):
        for name, where in naming.deployment_order(env, region, settings.dr_region):
            result.stacks.append(_stack(client("cloudformation", where), name, where))
        result.services, result.targets = _services(
            client("ecs", region), client("elbv2", region), naming.cluster_name(env)
        )
        database = naming.database_identifier(env)
        replicas = [naming.replica_identifier(env)] if settings.rds.read_replica else []
        result.data = _databases(client("rds", region), [database, *replicas])
        hours = settings.office_hours
        if hours is not None and not hours.database_runs_at(now or datetime.now(UTC)):
            primary = result.data[0]
            if primary.status in ASLEEP:
                result.data[0] = replace(primary, asleep=True)
        result.data.append(_cache(client("elasticache", region), naming.cache_identifier(env)))
        result.alarms = _alarms(client("cloudwatch", region), f"{naming.resource_name(env)}-")
    return result
