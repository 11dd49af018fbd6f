"""`health-platform-<env>-observability`: alerts, alarms, dashboard, budget, audit trail,
threat detection and AWS Config."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from health_platform.contract import FAILED_LOGIN_EVENT, PRIVILEGE_CHANGE_EVENT, SERVICES
from health_platform.infra import naming
from health_platform.infra.data.connections import max_connections, memory_gib
from health_platform.infra.observability.alarms import (
    Alarms,
    Threshold,
    log_pattern_metric,
    metric,
)
from health_platform.infra.observability.alerts import AlertTopic
from health_platform.infra.observability.audit_trail import AuditTrail
from health_platform.infra.observability.backup_events import restore_failures
from health_platform.infra.observability.budget import CostBudget
from health_platform.infra.observability.configuration_recording import ConfigurationRecording
from health_platform.infra.observability.dashboard import Dashboard, estimated_charges, graph
from health_platform.infra.observability.event_alerts import alert_on_events
from health_platform.infra.observability.threat_detection import ThreatDetection
from health_platform.infra.stacks.base import PlatformStack
from health_platform.infra.stacks.data import DataStack
from health_platform.infra.stacks.network import NetworkStack
from health_platform.infra.stacks.services import ServicesStack
from health_platform.settings import EnvironmentSettings

FAILED_LOGINS_PER_5_MINUTES = 20
NETWORK_ERROR_PERCENT = 1  # of requests: connections to targets failed or refused by the ALB
REQUEST_ANOMALY_STD_DEVS = 3  # request volume outside this band of its learned pattern
# The database: CPU, each read's or write's latency, memory left, a replica's lag.
DATABASE_CPU_PERCENT = 80
DATABASE_LATENCY_SECONDS = 0.02
DATABASE_FREE_MEMORY_FRACTION = 0.1
REPLICA_LAG_SECONDS = 60

# RDS's storage events that need a person (see _storage_events): storage exhausted (0007),
# autoscaling unable to scale (0223), about to reach its maximum (0224), at 80% of it
# (0225). Not 0089 (90% used): with autoscaling on it comes before every growth step.
DATABASE_STORAGE_EVENTS = ("RDS-EVENT-0007", "RDS-EVENT-0223", "RDS-EVENT-0224", "RDS-EVENT-0225")

UNAUTHORIZED_CALLS = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
)
IAM_POLICY_CHANGES = "{ " + " || ".join(
    f"($.eventName = {event})"
    for event in (
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
        "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
        "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
        "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
    )
) + " }"  # fmt: skip


class ObservabilityStack(PlatformStack):
    part = naming.OBSERVABILITY

    def __init__(
        self,
        scope: Construct,
        settings: EnvironmentSettings,
        *,
        network: NetworkStack,
        data: DataStack,
        services: ServicesStack,
    ) -> None:
        super().__init__(
            scope, settings, description="alarms, dashboard, budget, CloudTrail, AWS Config"
        )
        self.add_stack_dependency(services)
        env = settings.name
        name = naming.resource_name(env)
        self.namespace = f"HealthPlatform/{env}"
        self.alerts = AlertTopic(self, "Alerts", name=name, settings=settings.alerts)
        self.alarms = Alarms(self, "Alarms", topic=self.alerts.topic)
        restore_failures(self, "RestoreFailures", topic=self.alerts.topic)
        self.trail = AuditTrail(
            self,
            "AuditTrail",
            env=env,
            logs_key=network.logs_key,
            retention_days=settings.ecs.log_retention_days,
            data_events_bucket=data.buckets.uploads,
        )
        ThreatDetection(
            self,
            "ThreatDetection",
            name=name,
            topic=self.alerts.topic,
            create_services=settings.creates_security_services,
        )
        ConfigurationRecording(
            self,
            "ConfigurationRecording",
            settings=settings,
            topic=self.alerts.topic,
            access_logs=self.trail.access_logs,
        )
        rows = [
            self._services(services),
            self._load_balancer(services, asleep_at_night=settings.office_hours is not None),
            self._database(settings, data),
            self._cache(settings),
            self._security(services),
        ]
        self._image_findings(env)
        if settings.office_hours:
            self._office_hours(env)
        rows.append([graph("Estimated charges (USD, account)", [estimated_charges()], width=24)])
        Dashboard(self, "Dashboard", name=name, rows=rows)
        CostBudget(
            self,
            "Budget",
            name=name,
            env=env,
            monthly_limit_usd=settings.budget.monthly_limit_usd,
            topic=self.alerts.topic,
        )
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=name)

    def _services(self, services: ServicesStack) -> list[cloudwatch.IWidget]:
        widgets: list[cloudwatch.IWidget] = []
        for application in (services.frontend, services.backend):
            name = application.service.service_name
            dimensions = {"ClusterName": services.cluster.cluster_name, "ServiceName": name}
            cpu = metric("AWS/ECS", "CPUUtilization", dimensions)
            memory = metric("AWS/ECS", "MemoryUtilization", dimensions)
            label = application.node.id
            self.alarms.add(
                f"{label}Cpu", cpu, Threshold(80, 5), f"{label} CPU above 80% for 5 minutes"
            )
            self.alarms.add(
                f"{label}Memory",
                memory,
                Threshold(80, 5),
                f"{label} memory above 80% for 5 minutes",
            )
            widgets.append(graph(f"{label}: CPU and memory (%)", [cpu, memory], width=12))
        return widgets

    def _load_balancer(
        self, services: ServicesStack, *, asleep_at_night: bool
    ) -> list[cloudwatch.IWidget]:
        alb = {"LoadBalancer": services.load_balancer.alb.load_balancer_full_name}
        requests = metric("AWS/ApplicationELB", "RequestCount", alb, "Sum")
        elb_5xx = metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb, "Sum")
        target_5xx = metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum")
        # Outside office hours no task is meant to run and the ALB answers 503 for want of
        # targets: count its errors only while the backend is meant to have tasks.
        desired = metric(
            "ECS/ContainerInsights",
            "DesiredTaskCount",
            {
                "ClusterName": services.cluster.cluster_name,
                "ServiceName": services.backend.service.service_name,
            },
            "Minimum",
        )
        for label, errors in (("Alb5xxRate", elb_5xx), ("Target5xxRate", target_5xx)):
            gated = asleep_at_night and errors is elb_5xx
            metrics = {"errors": errors, "requests": requests} | (
                {"desired": desired} if gated else {}
            )
            expression = "IF(requests > 0, 100 * errors / requests, 0)"
            rate = cloudwatch.MathExpression(
                expression=f"IF(desired > 0, {expression}, 0)" if gated else expression,
                using_metrics=metrics,
                period=Duration.minutes(1),
                label=f"{label} (%)",
            )
            self.alarms.add(label, rate, Threshold(5, 2), f"{label} above 5% for 2 minutes")
        latency = metric("AWS/ApplicationELB", "TargetResponseTime", alb)
        self.alarms.add(
            "TargetResponseTime",
            latency,
            Threshold(1, 5),
            "Average target response time above 1 s for 5 minutes",
        )
        # Every target group of the load balancer, found by the query: a target group is
        # replaced when its protocol or port changes, and an alarm naming it would tie this
        # stack to an export CloudFormation cannot then change (HP-IMPORT-OF-REPLACEABLE).
        unhealthy = cloudwatch.MathExpression(
            expression=Fn.join(
                "",
                [
                    'SELECT MAX(UnHealthyHostCount) FROM SCHEMA("AWS/ApplicationELB",'
                    " LoadBalancer, TargetGroup) WHERE LoadBalancer = '",
                    alb["LoadBalancer"],
                    "' GROUP BY TargetGroup",
                ],
            ),
            using_metrics={},
            period=Duration.minutes(1),
            label="Unhealthy targets, by target group",
        )
        self.alarms.add(
            "UnhealthyTargets",
            unhealthy,
            Threshold(0, 2),
            "A target group (frontend or backend) has unhealthy targets for 2 minutes",
        )
        percentiles = [
            metric("AWS/ApplicationELB", "TargetResponseTime", alb, statistic)
            for statistic in ("p50", "p90", "p99")
        ]
        network = self._network_errors(alb, requests)
        self.alarms.anomaly(
            "RequestVolumeAnomaly",
            metric("AWS/ApplicationELB", "RequestCount", alb, "Sum").with_(
                period=Duration.minutes(5)
            ),
            REQUEST_ANOMALY_STD_DEVS,
            3,
            "Request volume outside its usual band for 15 minutes (a flood, or an outage)",
        )
        return [
            graph("Requests and 5xx", [requests, elb_5xx, target_5xx, *network]),
            graph("Latency p50 / p90 / p99 (s)", percentiles),
        ]

    def _network_errors(
        self, alb: dict[str, str], requests: cloudwatch.Metric
    ) -> list[cloudwatch.Metric]:
        """Connections the ALB could not make to a target, and connections it refused."""
        failed = metric("AWS/ApplicationELB", "TargetConnectionErrorCount", alb, "Sum")
        rejected = metric("AWS/ApplicationELB", "RejectedConnectionCount", alb, "Sum")
        rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * (failed + rejected) / requests, 0)",
            using_metrics={"failed": failed, "rejected": rejected, "requests": requests},
            period=Duration.minutes(1),
            label="NetworkErrorRate (%)",
        )
        self.alarms.add(
            "NetworkErrorRate",
            rate,
            Threshold(NETWORK_ERROR_PERCENT, 2),
            f"Target connection errors and rejected connections above {NETWORK_ERROR_PERCENT}%"
            " of requests for 2 minutes",
        )
        return [failed, rejected]

    def _office_hours(self, env: str) -> None:
        """A stop of the database that Scheduler gave up on after its retries: the instance
        runs (and bills) all night. A failed start needs no alarm of its own: the tasks meet
        no database at the start of the day (unhealthy targets; `hp doctor`). And a start
        refused because `hp wake` started the database early is no failure at all."""
        group = {"ScheduleGroup": naming.office_hours_group(env, "stop")}
        failed = cloudwatch.MathExpression(
            expression="dropped + errors",
            using_metrics={
                "dropped": metric("AWS/Scheduler", "InvocationDroppedCount", group, "Sum"),
                "errors": metric("AWS/Scheduler", "TargetErrorCount", group, "Sum"),
            },
            period=Duration.minutes(5),
            label="Failed stops of the database",
        )
        self.alarms.add(
            "OfficeHoursStop",
            failed,
            Threshold(0, 1),
            "EventBridge Scheduler could not stop the database at the end of office hours: it"
            " runs all night. See the schedule group's target errors; `aws rds stop-db-instance`.",
        )

    def _database(self, settings: EnvironmentSettings, data: DataStack) -> list[cloudwatch.IWidget]:
        instance_class = settings.rds.instance_class
        instances = [data.database.instance] + (
            [data.database.replica] if data.database.replica else []
        )
        widgets: list[cloudwatch.IWidget] = []
        for instance in instances:
            identifier = {"DBInstanceIdentifier": instance.instance_identifier}
            label = f"Database{instance.node.id}"
            load = self._database_load(label, identifier, instance_class)
            latencies = self._database_latency(label, identifier)
            free = metric("AWS/RDS", "FreeStorageSpace", identifier, "Minimum")
            memory = self._database_memory(label, identifier, instance_class)
            if instance is data.database.replica:
                self.alarms.add(
                    f"{label}Lag",
                    metric("AWS/RDS", "ReplicaLag", identifier, "Maximum"),
                    Threshold(REPLICA_LAG_SECONDS, 5),
                    f"Read replica more than {REPLICA_LAG_SECONDS} s behind for 5 minutes",
                )
            widgets += [
                graph(f"{label}: CPU (%) and connections", load),
                graph(f"{label}: read and write latency (s)", latencies),
                graph(f"{label}: free storage and memory (bytes)", [free, memory]),
            ]
        self._storage_events([instance.instance_identifier for instance in instances])
        return widgets

    def _database_load(
        self, label: str, identifier: dict[str, str], instance_class: str
    ) -> list[cloudwatch.IMetric]:
        connections = metric("AWS/RDS", "DatabaseConnections", identifier, "Maximum")
        limit = round(0.8 * max_connections(instance_class))
        self.alarms.add(
            f"{label}Connections",
            connections,
            Threshold(limit, 5),
            f"Database connections above 80% of the maximum ({limit})",
        )
        cpu = metric("AWS/RDS", "CPUUtilization", identifier)
        self.alarms.add(
            f"{label}Cpu",
            cpu,
            Threshold(DATABASE_CPU_PERCENT, 5),
            f"Database CPU above {DATABASE_CPU_PERCENT}% for 5 minutes",
        )
        return [cpu, connections]

    def _database_latency(self, label: str, identifier: dict[str, str]) -> list[cloudwatch.IMetric]:
        latencies: list[cloudwatch.IMetric] = []
        for kind in ("Read", "Write"):
            latency = metric("AWS/RDS", f"{kind}Latency", identifier)
            self.alarms.add(
                f"{label}{kind}Latency",
                latency,
                Threshold(DATABASE_LATENCY_SECONDS, 5),
                f"Database {kind.lower()} latency above"
                f" {DATABASE_LATENCY_SECONDS * 1000:.0f} ms for 5 minutes",
            )
            latencies.append(latency)
        return latencies

    def _database_memory(
        self, label: str, identifier: dict[str, str], instance_class: str
    ) -> cloudwatch.Metric:
        memory = metric("AWS/RDS", "FreeableMemory", identifier, "Minimum")
        floor = round(memory_gib(instance_class) * 1024**3 * DATABASE_FREE_MEMORY_FRACTION)
        self.alarms.add(
            f"{label}FreeableMemory",
            memory,
            Threshold(floor, 5, below=True),
            f"Database freeable memory under {DATABASE_FREE_MEMORY_FRACTION:.0%} of the"
            " class's for 5 minutes",
        )
        return memory

    def _image_findings(self, env: str) -> None:
        """An image scan (on every push) that found a critical vulnerability in one of the
        environment's images reaches the alert topic: ECR reports it to EventBridge only."""
        alert_on_events(
            self,
            "CriticalImageFindings",
            topic=self.alerts.topic,
            description="ECR scans with critical findings in this environment's images",
            source="aws.ecr",
            detail_type="ECR Image Scan",
            detail={
                "scan-status": ["COMPLETE"],
                "repository-name": [naming.repository_name(env, name) for name in SERVICES],
                "finding-severity-counts": {"CRITICAL": [{"numeric": [">", 0]}]},
            },
        )

    def _storage_events(self, identifiers: list[str]) -> None:
        """Storage alerts at any size. Storage autoscaling grows the volume, and CloudWatch
        has no metric of its size, so no alarm on FreeStorageSpace can say "85% used" once
        it has grown. RDS's own events can, and say what matters when autoscaling runs:
        storage exhausted, autoscaling near its maximum, about to reach it, or unable to
        scale (DATABASE_STORAGE_EVENTS). Picked by id through EventBridge: an RDS event
        subscription takes whole categories, which hold routine events too."""
        alert_on_events(
            self,
            "DatabaseStorageEvents",
            topic=self.alerts.topic,
            description="RDS storage events that need a person (autoscaling at its limits)",
            source="aws.rds",
            detail_type="RDS DB Instance Event",
            detail={"EventID": list(DATABASE_STORAGE_EVENTS), "SourceIdentifier": identifiers},
        )

    def _cache(self, settings: EnvironmentSettings) -> list[cloudwatch.IWidget]:
        cache = settings.elasticache
        group_id = naming.cache_identifier(settings.name)
        metrics: list[cloudwatch.IMetric] = []
        for shard in range(1, cache.shards + 1):
            for node in range(1, cache.replicas_per_shard + 2):
                # Cluster mode names nodes <group>-<shard:4>-<node:3>.
                node_id = f"{group_id}-{shard:04d}-{node:03d}"
                dimensions = {"CacheClusterId": node_id}
                label = f"Cache{shard}x{node}"
                cpu = metric("AWS/ElastiCache", "EngineCPUUtilization", dimensions)
                memory = metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dimensions)
                evictions = metric("AWS/ElastiCache", "Evictions", dimensions, "Sum")
                self.alarms.add(
                    f"{label}Cpu", cpu, Threshold(80, 5), f"Redis {node_id} CPU above 80%"
                )
                self.alarms.add(
                    f"{label}Memory", memory, Threshold(80, 5), f"Redis {node_id} memory above 80%"
                )
                self.alarms.add(
                    f"{label}Evictions",
                    evictions,
                    Threshold(0, 5),
                    f"Redis {node_id} is evicting keys (sessions may be lost)",
                )
                metrics += [cpu, memory]
        return [graph("Redis CPU and memory (%)", metrics, width=12)]

    def _security(self, services: ServicesStack) -> list[cloudwatch.IWidget]:
        # The API's security events (one JSON line each): metric, alarm, threshold, why.
        api_events = (
            (
                FAILED_LOGIN_EVENT,
                "FailedLogins",
                "FailedLoginSpike",
                FAILED_LOGINS_PER_5_MINUTES,
                f"More than {FAILED_LOGINS_PER_5_MINUTES} failed logins in 5 minutes",
            ),
            (
                PRIVILEGE_CHANGE_EVENT,
                "PrivilegeChanges",
                "PrivilegeChange",
                0,
                "A role was changed in the application (an administrator made or unmade)",
            ),
        )
        metrics = []
        for event, name, alarm, threshold, description in api_events:
            counted = log_pattern_metric(
                self,
                f"{name}Filter",
                log_group=services.backend.log_group,
                pattern=logs.FilterPattern.string_value("$.event", "=", event),
                namespace=self.namespace,
                name=name,
            )
            self.alarms.add(alarm, counted, Threshold(threshold, 1), description)
            metrics.append(counted)
        for label, pattern in (
            ("UnauthorizedApiCalls", UNAUTHORIZED_CALLS),
            ("IamPolicyChanges", IAM_POLICY_CHANGES),
        ):
            events = log_pattern_metric(
                self,
                f"{label}Filter",
                log_group=self.trail.log_group,
                pattern=logs.FilterPattern.literal(pattern),
                namespace=self.namespace,
                name=label,
            )
            self.alarms.add(label, events, Threshold(0, 1), f"CloudTrail: {label}")
            metrics.append(events)
        return [graph("Security events", metrics, width=24)]
