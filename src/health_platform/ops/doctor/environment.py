"""What the checks read of an environment: its clients, and what several checks need (the
services, their task definitions, the parameters, the database, the cache), read once for
the whole run."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from health_platform.contract import SERVICES
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, error_code
from health_platform.ops.deploy import required_parameters
from health_platform.settings import EnvironmentSettings

METRIC_PERIOD_SECONDS = 300


class Environment:
    """The environment as the checks read it; what several of them need is read once."""

    def __init__(self, settings: EnvironmentSettings, clients: ClientFactory, now: datetime):
        self.settings, self.clients, self.now = settings, clients, now
        self.env, self.region = settings.name, settings.region
        self.cluster = naming.cluster_name(self.env)
        self._task_definitions: dict[str, dict[str, Any]] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients(service, region or self.region)

    def logs_hint(self, service: str) -> str:
        return f"hp logs {self.env} {service} --since 1h"

    @property
    def apply_hint(self) -> str:
        return f"hp infra apply {self.env}"

    @cached_property
    def services(self) -> dict[str, dict[str, Any]] | None:
        """The ACTIVE services by name; None if the cluster does not exist."""
        try:
            described = self.client("ecs").describe_services(
                cluster=self.cluster, services=list(SERVICES)
            )
        except ClientError as missing:
            if error_code(missing) == "ClusterNotFoundException":
                return None
            raise
        return {
            service["serviceName"]: service
            for service in described["services"]
            if service.get("status") == "ACTIVE"
        }

    def running(self) -> dict[str, dict[str, Any]]:
        return self.services or {}

    def containers(self, service: str) -> list[dict[str, Any]]:
        """The container definitions of the task definition `service` runs."""
        if service not in self._task_definitions:
            arn = self.running()[service]["taskDefinition"]
            self._task_definitions[service] = self.client("ecs").describe_task_definition(
                taskDefinition=arn
            )["taskDefinition"]
        return list(self._task_definitions[service].get("containerDefinitions", []))

    @cached_property
    def parameters(self) -> dict[str, str]:
        """The required parameters that exist, with their values (SecureStrings encrypted:
        only their presence matters here)."""
        names = required_parameters(self.env)
        ssm = self.client("ssm")
        found: dict[str, str] = {}
        for start in range(0, len(names), 10):  # GetParameters takes at most 10 names
            answer = ssm.get_parameters(Names=names[start : start + 10])
            found |= {p["Name"]: p.get("Value", "") for p in answer["Parameters"]}
        return found

    def database(self, identifier: str) -> dict[str, Any] | None:
        try:
            (instance,) = self.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)[
                "DBInstances"
            ]
        except ClientError as missing:
            if error_code(missing) == "DBInstanceNotFound":
                return None
            raise
        return dict(instance)

    @cached_property
    def primary_database(self) -> dict[str, Any] | None:
        return self.database(naming.database_identifier(self.env))

    @cached_property
    def cache(self) -> dict[str, Any] | None:
        """The replication group, and under "SecurityGroups" its member clusters' groups
        (a replication group does not name its groups; its clusters do)."""
        elasticache = self.client("elasticache")
        try:
            (group,) = elasticache.describe_replication_groups(
                ReplicationGroupId=naming.cache_identifier(self.env)
            )["ReplicationGroups"]
        except ClientError as missing:
            if error_code(missing) == "ReplicationGroupNotFoundFault":
                return None
            raise
        groups: list[str] = []
        for member in group.get("MemberClusters", [])[:1]:  # members share their groups
            (cluster,) = elasticache.describe_cache_clusters(CacheClusterId=member)["CacheClusters"]
            groups += [g["SecurityGroupId"] for g in cluster.get("SecurityGroups", [])]
        return {**group, "SecurityGroups": groups}

    @cached_property
    def target_groups(self) -> dict[str, list[str]]:
        """Each running service's target group ARNs."""
        return {
            name: [b["targetGroupArn"] for b in service.get("loadBalancers", [])]
            for name, service in self.running().items()
        }

    def metrics(
        self, window: timedelta, queries: dict[str, tuple[str, str, str, str, str]]
    ) -> dict[str, list[float]]:
        """id -> values of (namespace, metric, dimension, its value, statistic) over the
        last `window`, one value per METRIC_PERIOD_SECONDS that has data."""
        answer = self.client("cloudwatch").get_metric_data(
            MetricDataQueries=[
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": metric,
                            "Dimensions": [{"Name": dimension, "Value": value}],
                        },
                        "Period": METRIC_PERIOD_SECONDS,
                        "Stat": statistic,
                    },
                }
                for query_id, (namespace, metric, dimension, value, statistic) in queries.items()
            ],
            StartTime=self.now - window,
            EndTime=self.now,
        )
        return {
            r["Id"]: [float(v) for v in r.get("Values", [])] for r in answer["MetricDataResults"]
        }
