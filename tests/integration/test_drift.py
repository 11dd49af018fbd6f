"""`hp infra drift` against CloudFormation's answers. moto has no drift detection, so a real
boto3 client is wrapped in botocore's Stubber and answered with responses in the shapes of
AWS's API reference (Stubber checks both the requests and the responses against botocore's
model of the API)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from health_platform.errors import AwsError, ExitCode
from health_platform.ops.drift import (
    DETECTION_FAILED,
    DRIFTED,
    IN_SYNC,
    PropertyDrift,
    ResourceDrift,
    detect_drift,
)
from health_platform.ops.status import NOT_DEPLOYED
from health_platform.settings import load_environment
from tests.integration.aws_answers import FakeTime

DEV_STACKS = [
    "health-platform-dev-network",
    "health-platform-dev-data",
    "health-platform-dev-services",
    "health-platform-dev-edge",
    "health-platform-dev-observability",
]
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def cloudformation(region: str = "us-east-1") -> Any:
    return boto3.client(
        "cloudformation",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - not a secret
    )


def stack_id(stack: str, region: str = "us-east-1") -> str:
    unique = uuid.uuid5(uuid.NAMESPACE_URL, stack)
    return f"arn:aws:cloudformation:{region}:111111111111:stack/{stack}/{unique}"


def detection_id(stack: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, stack))


def expect_start(stubber: Stubber, stack: str) -> None:
    stubber.add_response(
        "detect_stack_drift", {"StackDriftDetectionId": detection_id(stack)}, {"StackName": stack}
    )


def expect_status(
    stubber: Stubber,
    stack: str,
    detection: str = "DETECTION_COMPLETE",
    drift: str | None = "IN_SYNC",
    reason: str | None = None,
    region: str = "us-east-1",
) -> None:
    response: dict[str, Any] = {
        "StackId": stack_id(stack, region),
        "StackDriftDetectionId": detection_id(stack),
        "DetectionStatus": detection,
        "Timestamp": NOW,
    }
    if drift is not None:
        response["StackDriftStatus"] = drift
    if reason is not None:
        response["DetectionStatusReason"] = reason
    if detection == "DETECTION_COMPLETE":
        response["DriftedStackResourceCount"] = 0 if drift == "IN_SYNC" else 1
    stubber.add_response(
        "describe_stack_drift_detection_status",
        response,
        {"StackDriftDetectionId": detection_id(stack)},
    )


def expect_resources(
    stubber: Stubber,
    stack: str,
    drifts: list[dict[str, Any]],
    *,
    page: str | None = None,
    next_page: str | None = None,
) -> None:
    request: dict[str, Any] = {
        "StackName": stack,
        "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
    }
    if page:
        request["NextToken"] = page
    response: dict[str, Any] = {"StackResourceDrifts": drifts}
    if next_page:
        response["NextToken"] = next_page
    stubber.add_response("describe_stack_resource_drifts", response, request)


def database_drift(stack: str) -> dict[str, Any]:
    """Someone shortened the backup retention in the console."""
    return {
        "StackId": stack_id(stack),
        "LogicalResourceId": "DatabaseInstanceA1B2C3D4",
        "PhysicalResourceId": "health-platform-dev-db",
        "ResourceType": "AWS::RDS::DBInstance",
        "ExpectedProperties": json.dumps({"BackupRetentionPeriod": 7, "DeletionProtection": True}),
        "ActualProperties": json.dumps({"BackupRetentionPeriod": 1, "DeletionProtection": True}),
        "PropertyDifferences": [
            {
                "PropertyPath": "/BackupRetentionPeriod",
                "ExpectedValue": "7",
                "ActualValue": "1",
                "DifferenceType": "NOT_EQUAL",
            }
        ],
        "StackResourceDriftStatus": "MODIFIED",
        "Timestamp": NOW,
    }


def deleted_rule(stack: str) -> dict[str, Any]:
    return {
        "StackId": stack_id(stack),
        "LogicalResourceId": "CacheSecurityGroupfromTasks6379",
        "PhysicalResourceId": "sgr-0123456789abcdef0",
        "ResourceType": "AWS::EC2::SecurityGroupIngress",
        "ExpectedProperties": json.dumps({"FromPort": 6379, "ToPort": 6379, "IpProtocol": "tcp"}),
        "StackResourceDriftStatus": "DELETED",
        "Timestamp": NOW,
    }


def run(stubber: Stubber, client: Any, fake: FakeTime, env: str = "dev", **options: Any) -> Any:
    with stubber:
        report = detect_drift(
            load_environment(env),
            lambda service, region: client,
            sleep=fake.sleep,
            clock=fake.clock,
            **options,
        )
        stubber.assert_no_pending_responses()
    return report


def test_every_stack_in_sync() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    for stack in DEV_STACKS:
        expect_start(stubber, stack)
    for stack in DEV_STACKS:
        expect_status(stubber, stack)
    fake = FakeTime()

    report = run(stubber, client, fake)

    assert [(s.name, s.status, s.resources) for s in report.stacks] == [
        (stack, IN_SYNC, ()) for stack in DEV_STACKS
    ]
    assert report.in_sync
    assert fake.slept == []


def test_a_drifted_stack_names_its_resources_and_property_differences() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    for stack in DEV_STACKS:
        expect_start(stubber, stack)
    data = "health-platform-dev-data"
    for stack in DEV_STACKS:
        if stack == data:
            # Still running at the first look: polled again after one interval.
            expect_status(stubber, stack, "DETECTION_IN_PROGRESS", drift=None)
            expect_status(stubber, stack, drift="DRIFTED")
            expect_resources(stubber, stack, [database_drift(stack)], next_page="page-2")
            expect_resources(stubber, stack, [deleted_rule(stack)], page="page-2")
        else:
            expect_status(stubber, stack)
    fake = FakeTime()

    report = run(stubber, client, fake, interval=7.0)

    drifted = {s.name: s for s in report.stacks}[data]
    assert drifted.status == DRIFTED
    assert drifted.resources == (
        ResourceDrift(
            "DatabaseInstanceA1B2C3D4",
            "AWS::RDS::DBInstance",
            "MODIFIED",
            "health-platform-dev-db",
            (PropertyDrift("/BackupRetentionPeriod", "7", "1", "NOT_EQUAL"),),
        ),
        ResourceDrift(
            "CacheSecurityGroupfromTasks6379",
            "AWS::EC2::SecurityGroupIngress",
            "DELETED",
            "sgr-0123456789abcdef0",
        ),
    )
    assert not report.in_sync
    assert fake.slept == [7.0]


def test_a_failed_detection_keeps_its_reason_and_what_it_found() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    for stack in DEV_STACKS:
        expect_start(stubber, stack)
    services = "health-platform-dev-services"
    reason = "Failed to detect drift on resource [BackendServiceA1B2C3D4]: Internal Failure"
    for stack in DEV_STACKS:
        if stack == services:
            expect_status(stubber, stack, "DETECTION_FAILED", drift="DRIFTED", reason=reason)
            expect_resources(stubber, stack, [deleted_rule(stack)])
        else:
            expect_status(stubber, stack)

    report = run(stubber, client, FakeTime())

    failed = {s.name: s for s in report.stacks}[services]
    assert (failed.status, failed.reason) == (DETECTION_FAILED, reason)
    assert [r.logical_id for r in failed.resources] == ["CacheSecurityGroupfromTasks6379"]
    assert not report.in_sync


def test_a_stack_not_deployed_is_reported_not_raised() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    edge = "health-platform-dev-edge"
    for stack in DEV_STACKS:
        if stack == edge:
            stubber.add_client_error(
                "detect_stack_drift",
                service_error_code="ValidationError",
                service_message=f"Stack with id {edge} does not exist",
                http_status_code=400,
                expected_params={"StackName": edge},
            )
        else:
            expect_start(stubber, stack)
    for stack in DEV_STACKS:
        if stack != edge:
            expect_status(stubber, stack)

    report = run(stubber, client, FakeTime())

    statuses = {s.name: s.status for s in report.stacks}
    assert statuses[edge] == NOT_DEPLOYED
    assert {statuses[s] for s in DEV_STACKS if s != edge} == {IN_SYNC}
    assert report.in_sync  # nothing deployed has drifted


def test_a_stack_cloudformation_is_busy_with_fails_alone() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    services = "health-platform-dev-services"
    busy = (
        f"Drift detection is not supported for stack [{services}] because it is in"
        " UPDATE_IN_PROGRESS state"
    )
    for stack in DEV_STACKS:
        if stack == services:
            stubber.add_client_error(
                "detect_stack_drift", "ValidationError", busy, 400, {"StackName": stack}
            )
        else:
            expect_start(stubber, stack)
    for stack in DEV_STACKS:
        if stack != services:
            expect_status(stubber, stack)

    report = run(stubber, client, FakeTime())

    failed = {s.name: s for s in report.stacks}[services]
    assert (failed.status, failed.reason) == (DETECTION_FAILED, busy)


def test_a_throttled_poll_waits_for_the_next_round() -> None:
    """Stubber answers before botocore's retries run, so this is the poll loop's own
    tolerance: a throttled status call is 'not finished yet', not the end of the report."""
    client = cloudformation()
    stubber = Stubber(client)
    for stack in DEV_STACKS:
        expect_start(stubber, stack)
    network = "health-platform-dev-network"
    for stack in DEV_STACKS:
        if stack == network:
            stubber.add_client_error(
                "describe_stack_drift_detection_status",
                service_error_code="Throttling",
                service_message="Rate exceeded",
                http_status_code=400,
                expected_params={"StackDriftDetectionId": detection_id(stack)},
            )
        expect_status(stubber, stack)
    fake = FakeTime()

    report = run(stubber, client, fake, interval=5.0)

    assert {s.status for s in report.stacks} == {IN_SYNC}
    assert fake.slept == [5.0]


def test_botocore_retries_a_throttled_call_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other calls rely on botocore's retry handler (standard mode retries `Throttling`);
    this goes through its real retry path: the first DetectStackDrift answers Throttling."""
    client = cloudformation()
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda seconds: None))
    calls: list[str] = []

    def answer(action: str, status: int, body: str) -> AWSResponse:
        calls.append(action)
        encoded = body.encode()
        return AWSResponse(
            "https://cloudformation.us-east-1.amazonaws.com/",
            status,
            {"Content-Type": "text/xml"},
            SimpleNamespace(stream=lambda: iter([encoded])),
        )

    namespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

    def detect(request: Any, **_: Any) -> AWSResponse:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        stack = parse_qs(body)["StackName"][0]
        if "DetectStackDrift" not in calls:
            return answer(
                "DetectStackDrift",
                400,
                f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
                "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                "<RequestId>1</RequestId></ErrorResponse>",
            )
        return answer(
            "DetectStackDrift",
            200,
            f'<DetectStackDriftResponse xmlns="{namespace}"><DetectStackDriftResult>'
            f"<StackDriftDetectionId>{detection_id(stack)}</StackDriftDetectionId>"
            "</DetectStackDriftResult></DetectStackDriftResponse>",
        )

    def status(request: Any, **_: Any) -> AWSResponse:
        return answer(
            "DescribeStackDriftDetectionStatus",
            200,
            f'<DescribeStackDriftDetectionStatusResponse xmlns="{namespace}">'
            "<DescribeStackDriftDetectionStatusResult>"
            "<StackId>arn:aws:cloudformation:us-east-1:111111111111:stack/s/1</StackId>"
            "<StackDriftDetectionId>1</StackDriftDetectionId>"
            "<StackDriftStatus>IN_SYNC</StackDriftStatus>"
            "<DetectionStatus>DETECTION_COMPLETE</DetectionStatus>"
            "<Timestamp>2026-03-01T09:30:00Z</Timestamp>"
            "</DescribeStackDriftDetectionStatusResult>"
            "</DescribeStackDriftDetectionStatusResponse>",
        )

    client.meta.events.register("before-send.cloudformation.DetectStackDrift", detect)
    client.meta.events.register(
        "before-send.cloudformation.DescribeStackDriftDetectionStatus", status
    )

    report = detect_drift(load_environment("dev"), lambda service, region: client)

    assert {s.status for s in report.stacks} == {IN_SYNC}
    # One throttled attempt, retried by botocore, then one per stack.
    assert calls.count("DetectStackDrift") == len(DEV_STACKS) + 1


def test_detection_that_never_finishes_is_bounded_by_one_deadline() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    for stack in DEV_STACKS:
        expect_start(stubber, stack)
    # At 0, 10, 20 and 30 s for the first stack; the others are looked at once more when
    # the deadline has passed: they were running all along.
    for _ in range(4):
        expect_status(stubber, DEV_STACKS[0], "DETECTION_IN_PROGRESS", drift=None)
    for stack in DEV_STACKS[1:]:
        expect_status(stubber, stack, "DETECTION_IN_PROGRESS", drift=None)
    fake = FakeTime()

    report = run(stubber, client, fake, timeout=30.0, interval=10.0)

    assert {s.status for s in report.stacks} == {DETECTION_FAILED}
    assert report.stacks[0].reason == "drift detection did not finish within 30 s"
    assert sum(fake.slept) == 30.0


def test_each_stack_is_checked_in_its_own_region() -> None:
    regional = {region: cloudformation(region) for region in ("us-east-1", "us-west-2")}
    stubbers = {region: Stubber(client) for region, client in regional.items()}
    prod = [
        ("health-platform-prod-network", "us-east-1"),
        ("health-platform-prod-dr", "us-west-2"),
        ("health-platform-prod-data", "us-east-1"),
        ("health-platform-prod-services", "us-east-1"),
        ("health-platform-prod-edge", "us-east-1"),
        ("health-platform-prod-observability", "us-east-1"),
    ]
    for stack, region in prod:
        expect_start(stubbers[region], stack)
    for stack, region in prod:
        expect_status(stubbers[region], stack, region=region)
    asked: list[tuple[str, str]] = []

    def clients(service: str, region: str) -> Any:
        asked.append((service, region))
        return regional[region]

    with stubbers["us-east-1"], stubbers["us-west-2"]:
        report = detect_drift(load_environment("prod"), clients, sleep=FakeTime().sleep)
        for stubber in stubbers.values():
            stubber.assert_no_pending_responses()

    assert [(s.name, s.region) for s in report.stacks] == prod
    assert {service for service, _ in asked} == {"cloudformation"}


def test_a_refusal_is_one_sentence_with_exit_code_5() -> None:
    client = cloudformation()
    stubber = Stubber(client)
    stubber.add_client_error(
        "detect_stack_drift",
        service_error_code="AccessDenied",
        service_message="User is not authorized to perform: cloudformation:DetectStackDrift",
        http_status_code=403,
    )
    with stubber, pytest.raises(AwsError) as refused:
        detect_drift(load_environment("dev"), lambda service, region: client)
    assert refused.value.exit_code == ExitCode.AWS_ERROR
    assert str(refused.value).startswith(
        "AWS refused to detect drift in dev's stacks: AccessDenied"
    )
