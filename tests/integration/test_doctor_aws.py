"""`hp doctor ENV` against moto: a healthy dev built by direct API calls passes every
check; each failure the runbook knows is then made by hand and must be reported, with the
command that fixes it.

moto lacks a few answers, which botocore's Stubber gives instead: ECR's scan findings,
CloudWatch's metric data (percentiles), an ElastiCache member cluster's security groups,
ECS's stopped tasks (moto neither filters them by service nor keeps exit codes)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from health_platform.checks import Check, failed
from health_platform.ops.aws import ClientFactory, boto_clients
from health_platform.ops.doctor import run_doctor
from health_platform.settings import EnvironmentSettings, load_environment
from tests.integration.deployed import vpc_with_two_subnets

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
TAG = "20261130-abc1234"
NOW = datetime.now(UTC).replace(microsecond=0)
GIB = 1024**3
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
SERVICE_PORTS = {"frontend": 3000, "backend": 5000}


class Partly:
    """A moto client whose `operations` are answered by botocore's Stubber instead."""

    def __init__(self, service: str, operations: Iterable[str]) -> None:
        self.real = boto3.client(service, REGION)
        self.stubbed = boto3.client(service, REGION)
        self.stub = Stubber(self.stubbed)
        self.stub.activate()
        self.operations = set(operations)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stubbed if name in self.operations else self.real, name)

    def get_paginator(self, operation: str) -> Any:
        chosen = self.stubbed if operation in self.operations else self.real
        return chosen.get_paginator(operation)


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, REGION)
    stub = Stubber(client)
    stub.activate()
    return client, stub


@dataclass
class Dev:
    settings: EnvironmentSettings
    groups: dict[str, str]
    ecr: Stubber
    cloudwatch: Partly
    elasticache: Partly
    overrides: dict[str, Any] = field(default_factory=dict)

    def clients(self) -> ClientFactory:
        real = boto_clients()
        return lambda service, region: self.overrides.get(service) or real(service, region)

    def answers(
        self,
        *,
        findings: dict[str, dict[str, int]] | None = None,
        database: dict[str, list[float]] | None = None,
        traffic: dict[str, list[float]] | None = None,
    ) -> None:
        """Queue what the stubs say during one doctor run, in the order it asks."""
        for service in SERVICE_PORTS:
            self.ecr.add_response(
                "describe_image_scan_findings",
                {
                    "registryId": ACCOUNT,
                    "repositoryName": f"health-platform/dev/{service}",
                    "imageId": {"imageTag": TAG},
                    "imageScanStatus": {"status": "COMPLETE", "description": "done"},
                    "imageScanFindings": {
                        "findingSeverityCounts": (findings or {}).get(service, {"LOW": 2})
                    },
                },
                {
                    "registryId": ACCOUNT,
                    "repositoryName": f"health-platform/dev/{service}",
                    "imageId": {"imageTag": TAG},
                },
            )
        self.elasticache.stub.add_response(
            "describe_cache_clusters",
            {
                "CacheClusters": [
                    {
                        "CacheClusterId": "health-platform-dev-cache-001",
                        "SecurityGroups": [
                            {"SecurityGroupId": self.groups["cache"], "Status": "active"}
                        ],
                    }
                ]
            },
            {"CacheClusterId": "health-platform-dev-cache-001"},
        )
        db = {"connections": [4.0, 7.0], "free": [16.5 * GIB, 16.4 * GIB]} | (database or {})
        alb = {"targets5xx": [], "balancer5xx": [], "requests": [900.0], "latency": [0.21]}
        for values in (db, alb | (traffic or {})):
            self.cloudwatch.stub.add_response(
                "get_metric_data",
                {
                    "MetricDataResults": [
                        {"Id": key, "Values": value, "StatusCode": "Complete"}
                        for key, value in values.items()
                    ]
                },
                {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
            )

    def run(self, **answers: Any) -> list[Check]:
        self.answers(**answers)
        checks = run_doctor(self.settings, self.clients(), now=NOW)
        self.ecr.assert_no_pending_responses()
        self.cloudwatch.stub.assert_no_pending_responses()
        return checks


def certificate(domain: str, not_after: datetime) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), private


def rule(port: int, group: str) -> dict[str, Any]:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "UserIdGroupPairs": [{"GroupId": group}],
    }


def container(service: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": service,
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/health-platform/dev/{service}:{TAG}",
        "memory": 512,
        "user": "10001:10001",
        "readonlyRootFilesystem": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/aws/ecs/health-platform-dev/{service}",
                "awslogs-region": REGION,
                "awslogs-stream-prefix": service,
            },
        },
    } | changes


def register(service: str, **changes: Any) -> str:
    return str(
        boto3.client("ecs", REGION).register_task_definition(
            family=f"health-platform-dev-{service}",
            containerDefinitions=[container(service, **changes)],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )["taskDefinition"]["taskDefinitionArn"]
    )


def deploy_dev() -> dict[str, str]:
    """What `hp infra apply dev` and `hp release dev` leave behind, as far as the doctor
    reads it; the security groups by role."""
    cloudformation = boto3.client("cloudformation", REGION)
    for part in ("network", "data", "services", "edge", "observability"):
        cloudformation.create_stack(StackName=f"health-platform-dev-{part}", TemplateBody=TEMPLATE)

    ssm = boto3.client("ssm", REGION)
    for service in SERVICE_PORTS:
        ssm.put_parameter(Name=f"/health-platform/dev/release/{service}", Value=TAG, Type="String")
    ssm.put_parameter(
        Name="/health-platform/dev/app/session-secret", Value="s" * 48, Type="SecureString"
    )

    ec2 = boto3.client("ec2", REGION)
    vpc, subnets = vpc_with_two_subnets(ec2)
    groups = {
        role: ec2.create_security_group(GroupName=role, Description=role, VpcId=vpc)["GroupId"]
        for role in ("frontend", "backend", "clients", "database", "cache")
    }
    # The data stack: the database and the cache admit the data clients' group only, which
    # may go nowhere else.
    ec2.authorize_security_group_ingress(
        GroupId=groups["database"], IpPermissions=[rule(5432, groups["clients"])]
    )
    ec2.authorize_security_group_ingress(
        GroupId=groups["cache"], IpPermissions=[rule(6379, groups["clients"])]
    )
    ec2.revoke_security_group_egress(
        GroupId=groups["clients"],
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(
        GroupId=groups["clients"],
        IpPermissions=[rule(5432, groups["database"]), rule(6379, groups["cache"])],
    )

    elbv2 = boto3.client("elbv2", REGION)
    balancer = elbv2.create_load_balancer(Name="health-platform-dev-alb", Subnets=subnets)[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    targets = {
        service: elbv2.create_target_group(
            Name=service, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for service, port in SERVICE_PORTS.items()
    }
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": targets["frontend"]}],
    )["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": targets["backend"]}],
    )
    for index, (service, port) in enumerate(SERVICE_PORTS.items()):
        elbv2.register_targets(
            TargetGroupArn=targets[service], Targets=[{"Id": f"10.0.1.{10 + index}", "Port": port}]
        )

    ecs = boto3.client("ecs", REGION)
    ecs.create_cluster(clusterName="health-platform-dev")
    for service, port in SERVICE_PORTS.items():
        security = [groups[service]] + ([groups["clients"]] if service == "backend" else [])
        ecs.create_service(
            cluster="health-platform-dev",
            serviceName=service,
            taskDefinition=register(service),
            desiredCount=1,
            launchType="FARGATE",
            loadBalancers=[
                {
                    "targetGroupArn": targets[service],
                    "containerName": service,
                    "containerPort": port,
                }
            ],
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": security}
            },
        )

    boto3.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier="health-platform-dev-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="hp_admin",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        VpcSecurityGroupIds=[groups["database"]],
    )
    boto3.client("elasticache", REGION).create_replication_group(
        ReplicationGroupId="health-platform-dev-cache",
        ReplicationGroupDescription="cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        SecurityGroupIds=[groups["cache"]],
        Port=6379,
    )
    boto3.client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="health-platform-dev-observability-AlarmsBackendCpu-ABC123",
        MetricName="CPUUtilization",
        Namespace="AWS/ECS",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=5,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    body, key = certificate("dev.health.example.com", NOW + timedelta(days=90))
    boto3.client("acm", REGION).import_certificate(Certificate=body, PrivateKey=key)
    return groups


def healthy_dev(monkeypatch: pytest.MonkeyPatch) -> Dev:
    """A healthy dev, with the clients that answer where moto cannot."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")  # moto's services run their tasks
    groups = deploy_dev()
    ecr, ecr_stub = stubbed("ecr")
    cloudwatch = Partly("cloudwatch", ["get_metric_data"])
    elasticache = Partly("elasticache", ["describe_cache_clusters"])
    return Dev(
        load_environment("dev"),
        groups,
        ecr_stub,
        cloudwatch,
        elasticache,
        {"ecr": ecr, "cloudwatch": cloudwatch, "elasticache": elasticache},
    )


@pytest.fixture
def dev(aws: None, monkeypatch: pytest.MonkeyPatch) -> Dev:
    return healthy_dev(monkeypatch)


def by_name(checks: Iterable[Check]) -> dict[tuple[str, str], Check]:
    return {(c.component, c.name): c for c in checks}


def not_passed(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if c.status != "pass"]


def test_a_healthy_environment_passes_every_check(dev: Dev) -> None:
    checks = dev.run()
    assert not_passed(checks) == []
    found = by_name(checks)
    assert list(found) == [
        ("stacks", "health-platform-dev-network"),
        ("stacks", "health-platform-dev-data"),
        ("stacks", "health-platform-dev-services"),
        ("stacks", "health-platform-dev-edge"),
        ("stacks", "health-platform-dev-observability"),
        ("parameters", "/health-platform/dev/release/frontend"),
        ("parameters", "/health-platform/dev/release/backend"),
        ("parameters", "/health-platform/dev/app/session-secret"),
        ("frontend", "tasks"),
        ("frontend", "rollout"),
        ("backend", "tasks"),
        ("backend", "rollout"),
        ("frontend", "stopped tasks"),
        ("backend", "stopped tasks"),
        ("frontend", "task definition"),
        ("backend", "task definition"),
        ("frontend", "image"),
        ("backend", "image"),
        ("frontend", "image scan"),
        ("backend", "image scan"),
        ("frontend", "targets"),
        ("backend", "targets"),
        ("network", "backend → database"),
        ("network", "backend → cache"),
        ("database", "health-platform-dev-db"),
        ("database", "connections"),
        ("database", "free storage"),
        ("cache", "health-platform-dev-cache"),
        ("load balancer", "state"),
        ("load balancer", "5xx"),
        ("load balancer", "latency"),
        ("alarms", "in ALARM"),
        ("certificate", "dev.health.example.com (us-east-1)"),
    ]
    assert found["network", "backend → database"].detail == (
        f"{dev.groups['database']} admits the backend on 5432"
    )
    assert found["network", "backend → cache"].detail.endswith("admits the backend on 6379")
    assert found["database", "free storage"].detail == "16.4 GiB free of 20 GiB (82%)"
    assert found["parameters", "/health-platform/dev/release/backend"].detail == (
        f"backend's image tag: {TAG}"
    )
    assert found["backend", "image"].detail == f"runs the released tag {TAG}"
    assert not failed(checks)


def test_a_task_that_stopped_failing_is_reported_with_its_reason(dev: Dev) -> None:
    ecs = Partly("ecs", ["list_tasks", "describe_tasks"])
    dev.overrides["ecs"] = ecs
    task = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/health-platform-dev/"
    stopped: dict[str, list[dict[str, Any]]] = {
        "frontend": [
            {
                "taskArn": task + "f1",
                "stopCode": "TaskFailedToStart",
                "stoppedReason": "CannotPullContainerError: pull image manifest has been retried",
                "stoppedAt": NOW - timedelta(minutes=5),
                "containers": [{"name": "frontend", "reason": "CannotPullContainerError"}],
            }
        ],
        "backend": [
            {
                "taskArn": task + "b1",
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "stoppedAt": NOW - timedelta(minutes=10),
                "containers": [
                    {"name": "backend", "exitCode": 1, "reason": "OutOfMemoryError: killed"}
                ],
            },
            {  # a deployment replacing a task: not news
                "taskArn": task + "b2",
                "stopCode": "ServiceSchedulerInitiated",
                "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/123)",
                "stoppedAt": NOW - timedelta(minutes=20),
                "containers": [{"name": "backend", "exitCode": 0}],
            },
            {  # failed, but longer ago than the hour the doctor looks at
                "taskArn": task + "b3",
                "stopCode": "EssentialContainerExited",
                "stoppedReason": "Essential container in task exited",
                "stoppedAt": NOW - timedelta(hours=2),
                "containers": [{"name": "backend", "exitCode": 137}],
            },
        ],
    }
    for service, tasks in stopped.items():
        ecs.stub.add_response(
            "list_tasks",
            {"taskArns": [t["taskArn"] for t in tasks]},
            {"cluster": "health-platform-dev", "serviceName": service, "desiredStatus": "STOPPED"},
        )
        ecs.stub.add_response(
            "describe_tasks",
            {"tasks": [t | {"lastStatus": "STOPPED", "desiredStatus": "STOPPED"} for t in tasks]},
            {"cluster": "health-platform-dev", "tasks": [t["taskArn"] for t in tasks]},
        )

    found = by_name(dev.run())
    ecs.stub.assert_no_pending_responses()

    backend = found["backend", "stopped tasks"]
    assert backend.status == "fail"
    assert backend.detail == (
        "1 failed in the last hour: b1: Essential container in task exited,"
        " backend exit 1: OutOfMemoryError: killed"
    )
    assert backend.hint == "hp logs dev backend --since 1h"
    frontend = found["frontend", "stopped tasks"]
    assert frontend.status == "fail"
    assert "CannotPullContainerError" in frontend.detail
    assert frontend.hint == "the image cannot be pulled: push it again with `hp release dev`"


def test_a_missing_secret_fails_with_the_command_that_sets_it(dev: Dev) -> None:
    boto3.client("ssm", REGION).delete_parameter(Name="/health-platform/dev/app/session-secret")
    checks = dev.run()
    assert not_passed(checks) == [
        Check(
            "parameters",
            "/health-platform/dev/app/session-secret",
            "fail",
            "missing: an application secret",
            "hp secrets set dev session-secret",
        )
    ]


def test_a_missing_release_tag_fails_and_names_hp_release(dev: Dev) -> None:
    boto3.client("ssm", REGION).delete_parameter(Name="/health-platform/dev/release/backend")
    found = by_name(dev.run())
    assert found["parameters", "/health-platform/dev/release/backend"].hint == "hp release dev"
    assert found["backend", "image"].status == "warn"


def test_a_database_group_that_does_not_admit_the_backend_fails(dev: Dev) -> None:
    ec2 = boto3.client("ec2", REGION)
    database = dev.groups["database"]
    ec2.revoke_security_group_ingress(
        GroupId=database, IpPermissions=[rule(5432, dev.groups["clients"])]
    )
    # An address range is not the data clients' group: the runbook's rule is by group id.
    ec2.authorize_security_group_ingress(
        GroupId=database,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            },
            rule(6379, dev.groups["clients"]),  # the right group, the wrong port
        ],
    )
    checks = dev.run()
    (problem,) = not_passed(checks)
    assert (problem.component, problem.name, problem.status) == (
        "network",
        "backend → database",
        "fail",
    )
    assert problem.detail == (
        f"no ingress rule of the database's groups ({database}) admits the backend's groups"
        f" ({', '.join(sorted([dev.groups['backend'], dev.groups['clients']]))}) on 5432"
    )
    assert problem.hint.startswith("hp infra apply dev")


def test_a_backend_that_may_not_send_to_the_cache_fails(dev: Dev) -> None:
    ec2 = boto3.client("ec2", REGION)
    ec2.revoke_security_group_egress(
        GroupId=dev.groups["clients"], IpPermissions=[rule(6379, dev.groups["cache"])]
    )
    ec2.revoke_security_group_egress(
        GroupId=dev.groups["backend"],
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    (problem,) = not_passed(dev.run())
    assert (problem.name, problem.status) == ("backend → cache", "fail")
    assert (
        problem.detail == "no egress rule of the backend's groups lets it out to the cache on 6379"
    )


def test_a_critical_finding_fails_and_a_high_one_warns(dev: Dev) -> None:
    checks = dev.run(
        findings={"backend": {"CRITICAL": 1, "HIGH": 3}, "frontend": {"HIGH": 2, "MEDIUM": 5}}
    )
    found = by_name(checks)
    assert found["backend", "image scan"].status == "fail"
    assert found["backend", "image scan"].detail == "findings: 1 CRITICAL, 3 HIGH"
    assert found["frontend", "image scan"].status == "warn"
    assert found["backend", "image scan"].hint == (
        "rebuild on patched base images, then `hp release dev`"
    )
    assert {(c.component, c.name) for c in not_passed(checks)} == {
        ("backend", "image scan"),
        ("frontend", "image scan"),
    }


def test_a_refused_call_is_one_failure_and_the_rest_still_run(dev: Dev) -> None:
    acm, refusing = stubbed("acm")
    refusing.add_client_error(
        "list_certificates",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: acm:ListCertificates",
    )
    dev.overrides["acm"] = acm
    checks = dev.run()
    (problem,) = not_passed(checks)
    assert (problem.component, problem.name, problem.status) == ("certificate", "status", "fail")
    assert "AccessDeniedException" in problem.detail
    assert problem.hint == "use credentials that may read it, then run `hp doctor dev` again"
    assert len(checks) == 33  # every other check ran, and passed


def test_a_task_definition_that_breaks_the_promises_fails(dev: Dev) -> None:
    drifted = register(
        "backend",
        user="root",
        readonlyRootFilesystem=False,
        image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/health-platform/dev/backend:{TAG}",
        logConfiguration={"logDriver": "json-file"},
    )
    boto3.client("ecs", REGION).update_service(
        cluster="health-platform-dev", service="backend", taskDefinition=drifted
    )
    found = by_name(dev.run())
    definition = found["backend", "task definition"]
    assert definition.status == "fail"
    assert definition.detail == (
        "backend's root filesystem is writable; backend runs as root (user root);"
        " backend does not log to CloudWatch (awslogs)"
    )
    assert definition.hint == "hp infra apply dev"
    assert found["frontend", "task definition"].status == "pass"


def test_an_image_other_than_the_released_one_fails(dev: Dev) -> None:
    boto3.client("ssm", REGION).put_parameter(
        Name="/health-platform/dev/release/frontend", Value="next", Type="String", Overwrite=True
    )
    found = by_name(dev.run())
    image = found["frontend", "image"]
    assert image.status == "fail"
    assert image.detail.endswith(f":{TAG} but /health-platform/dev/release/frontend says next")
    assert image.hint == "hp release dev"


@pytest.mark.parametrize(("free_gib", "status"), [(5.0, "pass"), (3.0, "warn"), (1.5, "fail")])
def test_free_storage_warns_under_a_fifth_and_fails_under_a_tenth(
    dev: Dev, free_gib: float, status: str
) -> None:
    found = by_name(dev.run(database={"free": [free_gib * GIB]}))
    assert found["database", "free storage"].status == status


def test_5xx_and_slow_answers_are_reported(dev: Dev) -> None:
    found = by_name(
        dev.run(
            traffic={
                "targets5xx": [3.0, 2.0],
                "balancer5xx": [1.0],
                "requests": [400.0, 600.0],
                "latency": [0.4, 1.8],
            }
        )
    )
    errors = found["load balancer", "5xx"]
    assert (errors.status, errors.detail) == (
        "warn",
        "6 of 1000 requests in the last hour (5 from the services, 1 from the load balancer)",
    )
    assert found["load balancer", "latency"].status == "warn"

    outage = by_name(dev.run(traffic={"balancer5xx": [80.0], "requests": [1000.0]}))
    assert outage["load balancer", "5xx"].status == "fail"


def test_an_alarm_in_alarm_fails_with_its_reason(dev: Dev) -> None:
    boto3.client("cloudwatch", REGION).set_alarm_state(
        AlarmName="health-platform-dev-observability-AlarmsBackendCpu-ABC123",
        StateValue="ALARM",
        StateReason="Threshold Crossed: 5 datapoints were greater than 80.0",
    )
    (problem,) = not_passed(dev.run())
    assert problem.name == "health-platform-dev-observability-AlarmsBackendCpu-ABC123"
    assert problem.detail.startswith("Threshold Crossed")


def test_a_certificate_close_to_expiry_warns(dev: Dev) -> None:
    acm = boto3.client("acm", REGION)
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=summary["CertificateArn"])
    body, key = certificate("dev.health.example.com", NOW + timedelta(days=12))
    acm.import_certificate(Certificate=body, PrivateKey=key)
    (problem,) = not_passed(dev.run())
    assert (problem.component, problem.status) == ("certificate", "warn")
    assert problem.detail.endswith("(12 days)")
    assert "dev.health.example.com" in problem.hint


@pytest.mark.usefixtures("aws")
def test_an_environment_never_deployed_fails_everywhere_without_raising() -> None:
    checks = run_doctor(load_environment("staging"), boto_clients(), now=NOW)
    found = by_name(checks)
    assert {c.status for c in checks if c.component == "stacks"} == {"fail"}
    assert found["services", "cluster"].detail == "health-platform-staging does not exist"
    assert found["database", "health-platform-staging-db"].status == "fail"
    assert found["cache", "health-platform-staging-cache"].status == "fail"
    assert found["parameters", "/health-platform/staging/app/session-secret"].status == "fail"
    assert found["certificate", "staging.health.example.com (us-east-1)"].hint == (
        "hp infra apply staging"
    )
    assert all(c.hint for c in checks if c.status != "pass")
