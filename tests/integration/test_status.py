"""`hp infra status` against moto: a deployed environment built by direct API calls,
including the failing cases (an unhealthy target, an alarm in ALARM, a stack not deployed)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3
import pytest

from health_platform.cli import main
from health_platform.errors import ExitCode
from health_platform.ops.status import NOT_DEPLOYED, environment_status
from health_platform.settings import load_environment
from tests.integration.deployed import vpc_with_two_subnets

REGION = "us-east-1"
TEMPLATE = json.dumps(
    {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
    }
)


@dataclass
class Deployed:
    unhealthy_instance: str


def deploy_dev_by_hand(*, skip_stacks: tuple[str, ...] = ()) -> Deployed:
    """What `hp infra apply dev` leaves behind, as far as status reads it."""
    cloudformation = boto3.client("cloudformation", REGION)
    for part in ("network", "data", "services", "edge", "observability"):
        if part not in skip_stacks:
            cloudformation.create_stack(
                StackName=f"health-platform-dev-{part}", TemplateBody=TEMPLATE
            )
    ec2 = boto3.client("ec2", REGION)
    vpc, subnets = vpc_with_two_subnets(ec2)
    group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    elbv2 = boto3.client("elbv2", REGION)
    elbv2.create_load_balancer(Name="health-platform-dev", Subnets=subnets)
    frontend_targets = elbv2.create_target_group(
        Name="frontend", Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(
        TargetGroupArn=frontend_targets, Targets=[{"Id": "10.0.1.10", "Port": 3000}]
    )
    backend_targets = elbv2.create_target_group(
        Name="backend", Protocol="HTTP", Port=5000, VpcId=vpc
    )["TargetGroups"][0]["TargetGroupArn"]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnets[0]
    )["Instances"][0]["InstanceId"]
    elbv2.register_targets(TargetGroupArn=backend_targets, Targets=[{"Id": instance, "Port": 5000}])
    ec2.stop_instances(InstanceIds=[instance])  # the failing target

    ecs = boto3.client("ecs", REGION)
    ecs.create_cluster(clusterName="health-platform-dev")
    for service, port, targets in (
        ("frontend", 3000, frontend_targets),
        ("backend", 5000, backend_targets),
    ):
        ecs.register_task_definition(
            family=f"health-platform-dev-{service}",
            containerDefinitions=[{"name": service, "image": f"{service}:1", "memory": 512}],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )
        ecs.create_service(
            cluster="health-platform-dev",
            serviceName=service,
            taskDefinition=f"health-platform-dev-{service}",
            desiredCount=1,
            launchType="FARGATE",
            loadBalancers=[
                {"targetGroupArn": targets, "containerName": service, "containerPort": port}
            ],
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}
            },
        )
    boto3.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier="health-platform-dev-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="hp_admin",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
    )
    boto3.client("elasticache", REGION).create_replication_group(
        ReplicationGroupId="health-platform-dev-cache",
        ReplicationGroupDescription="cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
    )
    cloudwatch = boto3.client("cloudwatch", REGION)

    def cpu_alarm(name: str, evaluation_periods: int, firing_because: str | None) -> None:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="CPUUtilization",
            Namespace="AWS/ECS",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=evaluation_periods,
            Threshold=80,
            ComparisonOperator="GreaterThanThreshold",
        )
        if firing_because is not None:
            cloudwatch.set_alarm_state(
                AlarmName=name, StateValue="ALARM", StateReason=firing_because
            )

    cpu_alarm(
        "health-platform-dev-observability-AlarmsBackendCpu-ABC123",
        5,
        "Threshold Crossed: 5 datapoints were greater than 80.0",
    )
    cpu_alarm("health-platform-dev-observability-AlarmsFrontendCpu-ABC123", 5, None)
    # Another environment's alarm must not show up in dev's status.
    cpu_alarm("health-platform-staging-observability-AlarmsX", 1, "x")
    return Deployed(unhealthy_instance=instance)


@pytest.mark.usefixtures("aws")
def test_status_reports_every_part_and_the_failures() -> None:
    deployed = deploy_dev_by_hand(skip_stacks=("edge",))
    report = environment_status(load_environment("dev"))

    stacks = {s.name: s for s in report.stacks}
    assert list(stacks) == [
        "health-platform-dev-network",
        "health-platform-dev-data",
        "health-platform-dev-services",
        "health-platform-dev-edge",
        "health-platform-dev-observability",
    ]
    assert stacks["health-platform-dev-edge"].status == NOT_DEPLOYED
    assert stacks["health-platform-dev-network"].status == "CREATE_COMPLETE"
    assert "TopicArn" in stacks["health-platform-dev-data"].outputs

    services = {s.name: s for s in report.services}
    assert set(services) == {"frontend", "backend"}
    assert services["backend"].desired == 1

    targets = {t.service: t for t in report.targets}
    assert targets["frontend"].healthy
    assert not targets["backend"].healthy
    assert targets["backend"].target.startswith(deployed.unhealthy_instance)
    assert "stopped" in targets["backend"].reason

    data = {d.name: d.status for d in report.data}
    assert data == {"health-platform-dev-db": "available", "health-platform-dev-cache": "available"}

    assert [a.name for a in report.alarms] == [
        "health-platform-dev-observability-AlarmsBackendCpu-ABC123"
    ]
    assert "Threshold Crossed" in report.alarms[0].reason
    assert not report.healthy


@pytest.mark.usefixtures("aws")
def test_status_of_an_environment_never_deployed() -> None:
    report = environment_status(load_environment("staging"))
    assert {s.status for s in report.stacks} == {NOT_DEPLOYED}
    assert report.services == [] and report.targets == [] and report.alarms == []
    assert {d.status for d in report.data} == {NOT_DEPLOYED}
    assert not report.healthy


@pytest.mark.usefixtures("aws")
def test_status_command_renders_the_failures(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_dev_by_hand()
    # An unhealthy environment is a finding: a script that watches it can tell.
    assert main(["infra", "status", "dev"]) == ExitCode.FINDINGS
    text = capsys.readouterr().out
    for needle in (
        "health-platform-dev-network",
        "CREATE_COMPLETE",
        "Target.InvalidState",
        "health-platform-dev-observability-AlarmsBackendCpu-ABC123",
        "health-platform-dev-db",
        "dev is NOT healthy.",
    ):
        assert needle in text, needle
    assert "staging" not in text


@pytest.mark.usefixtures("aws")
def test_prod_status_reads_the_dr_and_edge_regions() -> None:
    report = environment_status(load_environment("prod"))
    regions = {s.name: s.region for s in report.stacks}
    assert regions["health-platform-prod-dr"] == "us-west-2"
    assert regions["health-platform-prod-edge"] == "us-east-1"
    assert [d.name for d in report.data][:2] == [
        "health-platform-prod-db",
        "health-platform-prod-db-replica",
    ]


@pytest.mark.usefixtures("no_credentials")
def test_status_without_credentials_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "status", "dev"]) == ExitCode.NO_CREDENTIALS
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No AWS credentials found") and err.count("\n") == 0
