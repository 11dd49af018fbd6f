"""`hp doctor ENV`: the runbook's Troubleshooting section run against AWS, one verdict per
check, each not-pass with the command or action that fixes it.

What it looks at: the stacks; the release parameters and application secrets; each
service's tasks, rollout and the tasks that stopped in the last hour (with why); each
running task definition (read-only root, a user, awslogs, the released image) and its
image's scan findings; target health; the security-group path from the backend to the
database and the cache; the database (status, connections, free storage), the cache;
the load balancer's 5xx and latency; alarms in ALARM; the certificates.

Checks are independent: one that AWS refuses, or that breaks, is that check's failure and
the others still run (health_platform.checks.guarded). What several checks read (the
services, their task definitions, the parameters, the database, the cache) is read once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from typing import Any

from botocore.exceptions import ClientError

from health_platform.checks import Check, Status, guarded
from health_platform.contract import APP_SECRETS, BACKEND, DATABASE_PORT, SERVICES
from health_platform.infra import naming
from health_platform.ops.aws import ClientFactory, aws_errors, error_code
from health_platform.ops.deploy import required_parameters
from health_platform.settings import EnvironmentSettings

# ECS lists a stopped task for at least an hour; older ones may already be gone.
STOPPED_WINDOW = timedelta(hours=1)
DATABASE_WINDOW = timedelta(minutes=15)
LOAD_BALANCER_WINDOW = timedelta(hours=1)
METRIC_PERIOD_SECONDS = 300
STORAGE_WARN_FREE = 0.20
STORAGE_FAIL_FREE = 0.10
LATENCY_WARN_SECONDS = 1.0
# A share of 5xx answers that is an outage rather than a few bad requests.
ERROR_SHARE_FAIL = 0.05
CERTIFICATE_MIN_DAYS = 30
ROOT_USERS = frozenset({"", "root", "0"})
# ListCertificates returns RSA_2048 certificates only unless asked for other key types.
CERTIFICATE_KEY_TYPES = (
    "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1",
)  # fmt: skip
# Stop codes of a task that did not stop because the scheduler or a person wanted it to.
FAILED_STOPS = frozenset({"TaskFailedToStart", "EssentialContainerExited"})
GIB = 1024**3
# Database states that pass by themselves; any other but "available" needs a person.
DATABASE_BUSY = frozenset(
    {
        "backing-up", "configuring-enhanced-monitoring", "configuring-log-exports", "creating",
        "maintenance", "modifying", "rebooting", "renaming", "resetting-master-credentials",
        "starting", "storage-optimization", "upgrading",
    }
)  # fmt: skip
CACHE_BUSY = frozenset({"creating", "modifying", "snapshotting"})

Checker = Callable[["_Environment"], list[Check]]


def run_doctor(
    settings: EnvironmentSettings, clients: ClientFactory, now: datetime | None = None
) -> list[Check]:
    """Every check of the environment, in the order a person would look."""
    found = _Environment(settings, clients, now or datetime.now(UTC))
    rerun = f"use credentials that may read it, then run `hp doctor {settings.name}` again"
    checks: list[Check] = []
    for component, name, checker in CHECKS:
        checks += guarded(component, name, partial(_read, checker, found, component), rerun)
    return checks


def _read(checker: Checker, found: _Environment, component: str) -> list[Check]:
    with aws_errors(f"read the {component}"):
        return checker(found)


class _Environment:
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


# --- stacks and parameters -------------------------------------------------------------------


def _stacks(e: _Environment) -> list[Check]:
    checks = []
    for name, region in naming.deployment_order(e.env, e.region, e.settings.dr_region):
        try:
            (stack,) = e.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"]
        except ClientError as missing:
            if "does not exist" not in str(missing):
                raise
            checks.append(Check("stacks", name, "fail", f"not deployed in {region}", e.apply_hint))
            continue
        status = stack["StackStatus"]
        detail = f"{status} ({region})" + (
            f": {stack['StackStatusReason']}" if stack.get("StackStatusReason") else ""
        )
        if status.endswith("_IN_PROGRESS"):
            hint = f"wait for it to finish (`hp infra status {e.env}`), then check again"
            checks.append(Check("stacks", name, "warn", detail, hint))
        elif status == "UPDATE_ROLLBACK_COMPLETE":
            detail += "; its last update failed and was rolled back"
            checks.append(Check("stacks", name, "warn", detail, e.apply_hint))
        elif status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            checks.append(Check("stacks", name, "pass", detail))
        else:
            checks.append(Check("stacks", name, "fail", detail, e.apply_hint))
    return checks


def _parameters(e: _Environment) -> list[Check]:
    """The image tags the services stack deploys and the secrets the backend's tasks are
    given at start: a missing one fails a deployment only after a long rollback."""
    releases = {naming.release_parameter(e.env, s): s for s in SERVICES}
    secrets = {naming.app_secret_parameter(e.env, n): n for n in APP_SECRETS}
    present = e.parameters
    checks = []
    for name in required_parameters(e.env):
        if name in releases:
            what, hint = f"{releases[name]}'s image tag", f"hp release {e.env}"
        elif name in secrets:
            what, hint = "an application secret", f"hp secrets set {e.env} {secrets[name]}"
        else:
            what, hint = "a required parameter", "README: first deployment"
        if name not in present:
            checks.append(Check("parameters", name, "fail", f"missing: {what}", hint))
        elif name in releases:
            checks.append(Check("parameters", name, "pass", f"{what}: {present[name]}"))
        else:
            checks.append(Check("parameters", name, "pass", f"{what}, set"))
    return checks


# --- services --------------------------------------------------------------------------------


def _services(e: _Environment) -> list[Check]:
    if e.services is None:
        return [Check("services", "cluster", "fail", f"{e.cluster} does not exist", e.apply_hint)]
    checks = []
    for name in SERVICES:
        service = e.services.get(name)
        if service is None:
            detail = f"no active {name} service in {e.cluster}"
            checks.append(Check(name, "service", "fail", detail, e.apply_hint))
            continue
        checks += [_task_counts(e, name, service), _rollout(e, name, service)]
    return checks


def _task_counts(e: _Environment, name: str, service: dict[str, Any]) -> Check:
    desired, running = service["desiredCount"], service["runningCount"]
    detail = f"{running} running of {desired} desired, {service.get('pendingCount', 0)} pending"
    if desired == 0:
        return Check(name, "tasks", "warn", f"{detail}: nothing asked to run", e.apply_hint)
    if running == 0:
        return Check(name, "tasks", "fail", detail, e.logs_hint(name))
    if running < desired:
        return Check(name, "tasks", "warn", detail, e.logs_hint(name))
    return Check(name, "tasks", "pass", detail)


def _rollout(e: _Environment, name: str, service: dict[str, Any]) -> Check:
    primary: dict[str, Any] = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    state, reason = primary.get("rolloutState", ""), primary.get("rolloutStateReason", "")
    detail = f"{state or 'no rollout state'}" + (f": {reason}" if reason else "")
    if state == "FAILED":
        return Check(name, "rollout", "fail", detail, e.logs_hint(name))
    if state == "IN_PROGRESS":
        hint = f"wait for it (`hp status {e.env}`); if it stays, `{e.logs_hint(name)}`"
        return Check(name, "rollout", "warn", detail, hint)
    return Check(name, "rollout", "pass", detail)


def _stopped_tasks(e: _Environment) -> list[Check]:
    """Tasks of each service that stopped in the last hour for another reason than a
    deployment, scaling or a Spot interruption, with ECS's reason and the exit codes."""
    ecs = e.client("ecs")
    since = e.now - STOPPED_WINDOW
    checks = []
    for name in e.running():
        arns = [
            arn
            for page in ecs.get_paginator("list_tasks").paginate(
                cluster=e.cluster, serviceName=name, desiredStatus="STOPPED"
            )
            for arn in page["taskArns"]
        ]
        tasks = [
            task
            for start in range(0, len(arns), 100)  # DescribeTasks takes at most 100
            for task in ecs.describe_tasks(cluster=e.cluster, tasks=arns[start : start + 100])[
                "tasks"
            ]
            if _stopped_at(task) >= since
        ]
        failed = sorted((t for t in tasks if _failed(t)), key=_stopped_at, reverse=True)
        normal = len(tasks) - len(failed)
        if not failed:
            detail = f"none failed in the last hour ({normal} stopped by ECS or a person)"
            checks.append(Check(name, "stopped tasks", "pass", detail))
            continue
        shown = "; ".join(_why(task) for task in failed[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        detail = f"{len(failed)} failed in the last hour: {shown}{more}"
        checks.append(Check(name, "stopped tasks", "fail", detail, _stop_hint(e, name, failed)))
    return checks


def _stopped_at(task: dict[str, Any]) -> datetime:
    moment = task.get("stoppedAt") or task.get("stoppingAt") or task.get("createdAt")
    return moment if isinstance(moment, datetime) else datetime.min.replace(tzinfo=UTC)


def _failed(task: dict[str, Any]) -> bool:
    if task.get("stopCode") in FAILED_STOPS:
        return True
    if any(c.get("exitCode") not in (None, 0) for c in task.get("containers", [])):
        return True
    # The scheduler replaces a task that fails its health checks (ServiceSchedulerInitiated).
    return "health check" in task.get("stoppedReason", "").lower()


def _why(task: dict[str, Any]) -> str:
    said = [task.get("stoppedReason") or task.get("stopCode") or "no reason given"]
    for container in task.get("containers", []):
        code, reason = container.get("exitCode"), container.get("reason")
        if code is not None or reason:
            exit_said = f"exit {code}" if code is not None else "no exit code"
            said.append(f"{container['name']} {exit_said}" + (f": {reason}" if reason else ""))
    return f"{task['taskArn'].rsplit('/', 1)[-1]}: " + ", ".join(said)


def _stop_hint(e: _Environment, name: str, failed: Sequence[dict[str, Any]]) -> str:
    reasons = " ".join(
        " ".join(
            [t.get("stoppedReason", ""), *(c.get("reason", "") for c in t.get("containers", []))]
        )
        for t in failed
    )
    if "CannotPullContainerError" in reasons:
        return f"the image cannot be pulled: push it again with `hp release {e.env}`"
    if "ResourceInitializationError" in reasons:
        return (
            "a secret or the image could not be fetched at start: see the parameters checks"
            f" (`hp secrets set {e.env} <name>`), then `{e.logs_hint(name)}`"
        )
    return e.logs_hint(name)


# --- task definitions and images -------------------------------------------------------------


def _task_definitions(e: _Environment) -> list[Check]:
    """What the CDK app promises of every task, checked on what actually runs."""
    checks = []
    for name in e.running():
        problems = []
        for container in e.containers(name):
            label = container["name"]
            if not container.get("readonlyRootFilesystem"):
                problems.append(f"{label}'s root filesystem is writable")
            user = str(container.get("user", ""))
            if user.split(":", 1)[0] in ROOT_USERS:
                problems.append(f"{label} runs as root (user {user or 'unset'})")
            logging = container.get("logConfiguration") or {}
            group = (logging.get("options") or {}).get("awslogs-group")
            expected = naming.task_log_group(e.env, name)
            if logging.get("logDriver") != "awslogs":
                problems.append(f"{label} does not log to CloudWatch (awslogs)")
            elif group != expected:
                problems.append(f"{label} logs to {group}, not {expected}")
        if problems:
            checks.append(Check(name, "task definition", "fail", "; ".join(problems), e.apply_hint))
        else:
            detail = "read-only root, non-root user, awslogs to " + naming.task_log_group(
                e.env, name
            )
            checks.append(Check(name, "task definition", "pass", detail))
    return checks


def _released_images(e: _Environment) -> list[Check]:
    """Each service runs the image its release parameter names."""
    checks = []
    for name in e.running():
        parameter = naming.release_parameter(e.env, name)
        tag = e.parameters.get(parameter)
        images = [c.get("image", "") for c in e.containers(name)]
        if tag is None:
            detail = f"runs {', '.join(images)}; no release tag to compare ({parameter} missing)"
            checks.append(Check(name, "image", "warn", detail, f"hp release {e.env}"))
        elif all(_reference(image)[1] == {"imageTag": tag} for image in images):
            checks.append(Check(name, "image", "pass", f"runs the released tag {tag}"))
        else:
            detail = f"runs {', '.join(images)} but {parameter} says {tag}"
            checks.append(Check(name, "image", "fail", detail, f"hp release {e.env}"))
    return checks


def _image_scans(e: _Environment) -> list[Check]:
    """ECR's scan findings of each running image: CRITICAL fails, HIGH warns."""
    release = f"rebuild on patched base images, then `hp release {e.env}`"
    checks = []
    for name in e.running():
        for image in dict.fromkeys(c.get("image", "") for c in e.containers(name)):
            repository, image_id = _reference(image)
            if ".dkr.ecr." not in image:
                detail = f"{image} is not in ECR: nothing scans it"
                checks.append(Check(name, "image scan", "warn", detail, f"hp release {e.env}"))
                continue
            registry, region = image.split(".", 1)[0], image.split(".")[3]
            try:
                found = e.client("ecr", region).describe_image_scan_findings(
                    registryId=registry, repositoryName=repository, imageId=image_id
                )
            except ClientError as missing:
                checks.append(_scan_missing(e, name, repository, image_id, missing))
                continue
            status = found.get("imageScanStatus", {})
            counts = found.get("imageScanFindings", {}).get("findingSeverityCounts", {})
            said = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "none"
            if status.get("status") not in ("COMPLETE", "ACTIVE"):
                detail = f"scan {status.get('status')}: {status.get('description', '')}".strip()
                checks.append(
                    Check(name, "image scan", "warn", detail, _scan(repository, image_id))
                )
            elif counts.get("CRITICAL"):
                checks.append(Check(name, "image scan", "fail", f"findings: {said}", release))
            elif counts.get("HIGH"):
                checks.append(Check(name, "image scan", "warn", f"findings: {said}", release))
            else:
                checks.append(Check(name, "image scan", "pass", f"findings: {said}"))
    return checks


def _scan_missing(
    e: _Environment, name: str, repository: str, image_id: dict[str, str], missing: ClientError
) -> Check:
    code = error_code(missing)
    if code == "ScanNotFoundException":
        detail = "the image was never scanned"
        return Check(name, "image scan", "warn", detail, _scan(repository, image_id))
    if code == "ImageNotFoundException":
        detail = f"the image is no longer in {repository}"
        return Check(name, "image scan", "fail", detail, f"hp release {e.env}")
    if code == "RepositoryNotFoundException":
        return Check(name, "image scan", "fail", f"no repository {repository}", e.apply_hint)
    raise missing


def _scan(repository: str, image_id: dict[str, str]) -> str:
    said = ",".join(f"{key}={value}" for key, value in image_id.items())
    return f"aws ecr start-image-scan --repository-name {repository} --image-id {said}"


def _reference(image: str) -> tuple[str, dict[str, str]]:
    """`[registry/]repository:tag` or `…@sha256:…` as (repository, ECR image id)."""
    first, _, rest = image.partition("/")
    path = rest if rest and ("." in first or ":" in first) else image  # a registry host
    if "@" in path:
        repository, digest = path.split("@", 1)
        return repository, {"imageDigest": digest}
    repository, _, tag = path.rpartition(":")
    return (repository, {"imageTag": tag}) if repository else (path, {"imageTag": "latest"})


# --- the load balancer's view ----------------------------------------------------------------


def _targets(e: _Environment) -> list[Check]:
    elbv2 = e.client("elbv2")
    checks = []
    for name, arns in e.target_groups.items():
        described = [
            description
            for arn in arns
            for description in elbv2.describe_target_health(TargetGroupArn=arn)[
                "TargetHealthDescriptions"
            ]
        ]
        states = [d["TargetHealth"]["State"] for d in described]
        if not described:
            detail = "no target registered" if arns else "no target group"
            checks.append(Check(name, "targets", "fail", detail, e.logs_hint(name)))
            continue
        unwell = [_target_said(d) for d in described if d["TargetHealth"]["State"] != "healthy"]
        detail = f"{states.count('healthy')} of {len(states)} healthy" + (
            f"; {'; '.join(unwell)}" if unwell else ""
        )
        if any(state in ("unhealthy", "unavailable") for state in states):
            checks.append(Check(name, "targets", "fail", detail, e.logs_hint(name)))
        elif unwell:
            hint = f"wait for the health checks to settle, then `hp doctor {e.env}` again"
            checks.append(Check(name, "targets", "warn", detail, hint))
        else:
            checks.append(Check(name, "targets", "pass", detail))
    return checks


def _target_said(description: dict[str, Any]) -> str:
    target, health = description["Target"], description["TargetHealth"]
    why = ": ".join(filter(None, (health.get("Reason"), health.get("Description"))))
    said = f"{target['Id']}:{target.get('Port', '')} {health['State']}"
    return f"{said} ({why})" if why else said


def _load_balancer(e: _Environment) -> list[Check]:
    """The ALB in front of the services: its state, its 5xx answers and its latency."""
    arns = [arn for group in e.target_groups.values() for arn in group]
    if not arns:
        return []
    elbv2 = e.client("elbv2")
    balancers = sorted(
        {
            balancer
            for group in elbv2.describe_target_groups(TargetGroupArns=arns)["TargetGroups"]
            for balancer in group.get("LoadBalancerArns", [])
        }
    )
    if not balancers:
        detail = "no load balancer forwards to the services' target groups"
        return [Check("load balancer", "state", "fail", detail, e.apply_hint)]
    checks = []
    for balancer in elbv2.describe_load_balancers(LoadBalancerArns=balancers)["LoadBalancers"]:
        state = balancer.get("State", {})
        detail = state.get("Code", "unknown") + (
            f": {state['Reason']}" if state.get("Reason") else ""
        )
        if state.get("Code") == "active":
            checks.append(Check("load balancer", "state", "pass", detail))
        elif state.get("Code") == "provisioning":
            hint = f"wait for it to become active (`hp status {e.env}`)"
            checks.append(Check("load balancer", "state", "warn", detail, hint))
        else:
            checks.append(Check("load balancer", "state", "fail", detail, e.apply_hint))
        # CloudWatch names an ALB by the part of its ARN after "loadbalancer/".
        dimension = balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
        checks += _traffic(e, dimension)
    return checks


def _traffic(e: _Environment, balancer: str) -> list[Check]:
    def alb(metric: str, statistic: str) -> tuple[str, str, str, str, str]:
        return ("AWS/ApplicationELB", metric, "LoadBalancer", balancer, statistic)

    values = e.metrics(
        LOAD_BALANCER_WINDOW,
        {
            "targets5xx": alb("HTTPCode_Target_5XX_Count", "Sum"),
            "balancer5xx": alb("HTTPCode_ELB_5XX_Count", "Sum"),
            "requests": alb("RequestCount", "Sum"),
            "latency": alb("TargetResponseTime", "p99"),
        },
    )
    from_targets = sum(values.get("targets5xx", []))
    from_balancer = sum(values.get("balancer5xx", []))
    errors = from_targets + from_balancer
    requests = max(sum(values.get("requests", [])), errors)
    detail = (
        f"{errors:.0f} of {requests:.0f} requests in the last hour ({from_targets:.0f} from the"
        f" services, {from_balancer:.0f} from the load balancer)"
    )
    hint = e.logs_hint(BACKEND)
    if errors and errors >= requests * ERROR_SHARE_FAIL:
        checks = [Check("load balancer", "5xx", "fail", detail, hint)]
    elif errors:
        checks = [Check("load balancer", "5xx", "warn", detail, hint)]
    else:
        checks = [Check("load balancer", "5xx", "pass", detail)]
    latency = values.get("latency", [])
    if not latency:
        checks.append(Check("load balancer", "latency", "pass", "no request in the last hour"))
    else:
        worst = max(latency)
        detail = f"p99 {worst:.2f} s at worst (5-minute p99s over the last hour)"
        if worst > LATENCY_WARN_SECONDS:
            checks.append(Check("load balancer", "latency", "warn", detail, hint))
        else:
            checks.append(Check("load balancer", "latency", "pass", detail))
    return checks


# --- the data tier ---------------------------------------------------------------------------


def _network(e: _Environment) -> list[Check]:
    """The backend's tasks reach the database and the cache only if one of the data tier's
    groups admits one of the tasks' groups, by group id, on the port it listens on, and a
    task's group lets the traffic out.

    The ports are read from the resources themselves (the database's endpoint, the cache's):
    Redis' port is written once in infra.data.cache, whose CDK imports would start Node."""
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


def _databases(e: _Environment) -> list[Check]:
    identifiers = [naming.database_identifier(e.env)]
    if e.settings.rds.read_replica:
        identifiers.append(naming.replica_identifier(e.env))
    checks = []
    for identifier in identifiers:
        instance = e.primary_database if identifier == identifiers[0] else e.database(identifier)
        if instance is None:
            checks.append(Check("database", identifier, "fail", "does not exist", e.apply_hint))
            continue
        status = instance["DBInstanceStatus"]
        if status == "available":
            checks.append(Check("database", identifier, "pass", status))
        elif status in DATABASE_BUSY:
            hint = f"wait for it to become available (`hp status {e.env}`)"
            checks.append(Check("database", identifier, "warn", status, hint))
        else:
            hint = "read its events: aws rds describe-events --source-type db-instance" + (
                f" --source-identifier {identifier}"
            )
            checks.append(Check("database", identifier, "fail", status, hint))
    primary = e.primary_database
    if primary is not None:
        checks += _database_metrics(e, primary)
    return checks


def _database_metrics(e: _Environment, instance: dict[str, Any]) -> list[Check]:
    identifier = instance["DBInstanceIdentifier"]

    def rds(metric: str, statistic: str) -> tuple[str, str, str, str, str]:
        return ("AWS/RDS", metric, "DBInstanceIdentifier", identifier, statistic)

    values = e.metrics(
        DATABASE_WINDOW,
        {
            "connections": rds("DatabaseConnections", "Maximum"),
            "free": rds("FreeStorageSpace", "Minimum"),
        },
    )
    no_data = f"wait a few minutes for CloudWatch (`hp status {e.env}` shows the instance)"
    checks = []
    if values.get("connections"):
        detail = f"{max(values['connections']):.0f} at most in the last 15 minutes"
        checks.append(Check("database", "connections", "pass", detail))
    else:
        detail = "no datapoint in the last 15 minutes"
        checks.append(Check("database", "connections", "warn", detail, no_data))
    if not values.get("free"):
        detail = "no datapoint in the last 15 minutes"
        checks.append(Check("database", "free storage", "warn", detail, no_data))
        return checks
    allocated = float(instance["AllocatedStorage"]) * GIB
    free = min(values["free"])
    share = free / allocated if allocated else 0.0
    detail = f"{free / GIB:.1f} GiB free of {allocated / GIB:.0f} GiB ({share:.0%})"
    hint = (
        f"raise rds.max_allocated_storage_gib in environments/{e.env}.yaml (storage grows"
        f" automatically up to it), then `hp infra apply {e.env}`"
    )
    if share < STORAGE_FAIL_FREE:
        checks.append(Check("database", "free storage", "fail", detail, hint))
    elif share < STORAGE_WARN_FREE:
        checks.append(Check("database", "free storage", "warn", detail, hint))
    else:
        checks.append(Check("database", "free storage", "pass", detail))
    return checks


def _cache(e: _Environment) -> list[Check]:
    identifier = naming.cache_identifier(e.env)
    if e.cache is None:
        return [Check("cache", identifier, "fail", "does not exist", e.apply_hint)]
    status = e.cache["Status"]
    if status == "available":
        return [Check("cache", identifier, "pass", status)]
    if status in CACHE_BUSY:
        hint = f"wait for it to become available (`hp status {e.env}`)"
        return [Check("cache", identifier, "warn", status, hint)]
    hint = "read its events: aws elasticache describe-events --source-type replication-group"
    return [Check("cache", identifier, "fail", status, f"{hint} --source-identifier {identifier}")]


# --- alarms and certificates -----------------------------------------------------------------


def _alarms(e: _Environment) -> list[Check]:
    pages = (
        e.client("cloudwatch")
        .get_paginator("describe_alarms")
        .paginate(StateValue="ALARM", AlarmNamePrefix=f"{naming.resource_name(e.env)}-")
    )
    firing = [
        alarm
        for page in pages
        for alarm in page["MetricAlarms"] + page.get("CompositeAlarms", [])
        if alarm["StateValue"] == "ALARM"  # some endpoints (moto) apply one filter only
    ]
    if not firing:
        return [Check("alarms", "in ALARM", "pass", "none")]
    hint = f"its reason says what crossed; `hp logs {e.env} --since 1h` shows what happened"
    return [
        Check("alarms", alarm["AlarmName"], "fail", alarm.get("StateReason", "in ALARM"), hint)
        for alarm in firing
    ]


def _certificates(e: _Environment) -> list[Check]:
    """The environment's certificates: CloudFront's (in its region) and the load
    balancer's (in the environment's), for its domain or a name under it; each ISSUED and
    far from expiry."""
    domain = e.settings.domain.name
    checks = []
    for region in dict.fromkeys((naming.CLOUDFRONT_REGION, e.region)):
        acm = e.client("acm", region)
        arns = [
            summary["CertificateArn"]
            for page in acm.get_paginator("list_certificates").paginate(
                Includes={"keyTypes": list(CERTIFICATE_KEY_TYPES)}
            )
            for summary in page["CertificateSummaryList"]
            if summary.get("DomainName") == domain
            or summary.get("DomainName", "").endswith(f".{domain}")
        ]
        if not arns:
            detail = f"no ACM certificate for {domain} or a name under it"
            checks.append(
                Check("certificate", f"{domain} ({region})", "fail", detail, e.apply_hint)
            )
            continue
        details = [acm.describe_certificate(CertificateArn=arn)["Certificate"] for arn in arns]
        # A replaced certificate lingers unused until deleted; judge those in use, if any.
        used = [d for d in details if d.get("InUseBy")] or details
        checks += [_certificate(e, region, detail) for detail in used]
    return checks


def _certificate(e: _Environment, region: str, certificate: dict[str, Any]) -> Check:
    name = f"{certificate['DomainName']} ({region})"
    status = certificate["Status"]
    zone = e.settings.domain.hosted_zone_name
    dns = f"check its DNS validation record (CNAME) in {zone}, then `hp infra apply {e.env}`"
    if status != "ISSUED":
        reason = certificate.get("FailureReason")
        detail = status + (f": {reason}" if reason else "")
        verdict: Status = "warn" if status == "PENDING_VALIDATION" else "fail"
        return Check("certificate", name, verdict, detail, dns)
    expires: datetime = certificate["NotAfter"]
    left = expires - e.now
    detail = f"ISSUED, expires {expires:%Y-%m-%d} ({left.days} days)"
    renewal = certificate.get("RenewalSummary") or {}
    if renewal.get("RenewalStatus") == "FAILED":
        detail += f"; renewal failed: {renewal.get('RenewalStatusReason', 'no reason given')}"
    if left <= timedelta(0):
        return Check("certificate", name, "fail", detail, dns)
    if left < timedelta(days=CERTIFICATE_MIN_DAYS):
        # ACM renews a DNS-validated certificate 60 days ahead; this close, renewal is stuck.
        return Check("certificate", name, "warn", detail, dns)
    return Check("certificate", name, "pass", detail)


# The order a person would look in: what is deployed, what it needs, how it runs, what
# the load balancer sees, the data tier, then what has already alerted and the edge.
CHECKS: tuple[tuple[str, str, Checker], ...] = (
    ("stacks", "deployed", _stacks),
    ("parameters", "present", _parameters),
    ("services", "running", _services),
    ("services", "stopped tasks", _stopped_tasks),
    ("services", "task definitions", _task_definitions),
    ("services", "released images", _released_images),
    ("services", "image scans", _image_scans),
    ("services", "targets", _targets),
    ("network", "data tier path", _network),
    ("database", "status", _databases),
    ("cache", "status", _cache),
    ("load balancer", "traffic", _load_balancer),
    ("alarms", "in ALARM", _alarms),
    ("certificate", "status", _certificates),
)
