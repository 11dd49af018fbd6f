"""The observability stack: every alarm at the seed's threshold and wired to the topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from health_platform.contract import PRIVILEGE_CHANGE_EVENT, SERVICES
from health_platform.infra.data.connections import max_connections, memory_gib
from health_platform.infra.naming import OBSERVABILITY, repository_name
from tests.infra.conftest import Synthesis


def alarms(synthesis: Synthesis, env: str) -> dict[str, dict[str, Any]]:
    return {
        lid.removeprefix("Alarms"): r["Properties"]
        for lid, r in synthesis.resources(env, OBSERVABILITY, "AWS::CloudWatch::Alarm").items()
    }


def alarm(synthesis: Synthesis, env: str, name: str) -> dict[str, Any]:
    found = [props for lid, props in alarms(synthesis, env).items() if lid.startswith(name)]
    assert len(found) == 1, f"{name}: {len(found)}"
    return found[0]


def test_every_alarm_notifies_on_alarm_and_on_ok(synthesis: Synthesis, env: str) -> None:
    found = alarms(synthesis, env)
    nodes = synthesis.environments[env].elasticache
    redis_nodes = nodes.shards * (nodes.replicas_per_shard + 1)
    databases = 2 if env == "prod" else 1
    # 2 services x (CPU, memory) + 2 rates + latency + unhealthy targets + network errors +
    # request volume + databases x (connections, CPU, read and write latency, memory) +
    # the replica's lag + Redis nodes x 3 + failed logins, privilege changes, unauthorized
    # calls, IAM policy changes (storage speaks through RDS's events:
    # test_database_storage_and_connections) + the office hours' schedule (dev)
    replica = 1 if env == "prod" else 0
    office_hours = 1 if synthesis.environments[env].office_hours else 0
    assert len(found) == 4 + 4 + 2 + 5 * databases + replica + 3 * redis_nodes + 4 + office_hours
    for props in found.values():
        topic = [{"Ref": lid} for lid in synthesis.resources(env, OBSERVABILITY, "AWS::SNS::Topic")]
        assert props["AlarmActions"] == topic
        assert props["OKActions"] == topic


@pytest.mark.parametrize("service", ["Frontend", "Backend"])
@pytest.mark.parametrize("resource", ["Cpu", "Memory"])
def test_service_cpu_and_memory_above_80_for_5_minutes(
    synthesis: Synthesis, env: str, service: str, resource: str
) -> None:
    props = alarm(synthesis, env, f"{service}{resource}")
    assert props["Threshold"] == 80
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert (props["EvaluationPeriods"], props["Period"]) == (5, 60)
    assert props["Namespace"] == "AWS/ECS"
    assert props["MetricName"] == {"Cpu": "CPUUtilization", "Memory": "MemoryUtilization"}[resource]


@pytest.mark.parametrize("name", ["Alb5xxRate", "Target5xxRate"])
def test_5xx_rate_above_5_percent_for_2_minutes(synthesis: Synthesis, env: str, name: str) -> None:
    props = alarm(synthesis, env, name)
    assert props["Threshold"] == 5 and props["EvaluationPeriods"] == 2
    expression = next(m for m in props["Metrics"] if "Expression" in m)["Expression"]
    assert "100 * errors / requests" in expression
    metric_names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m
    }
    prefix = "HTTPCode_ELB" if name.startswith("Alb") else "HTTPCode_Target"
    # Dev's ALB answers 503 by design outside office hours: counted while tasks are meant to run.
    gated = name == "Alb5xxRate" and synthesis.environments[env].office_hours is not None
    assert metric_names == {f"{prefix}_5XX_Count", "RequestCount"} | (
        {"DesiredTaskCount"} if gated else set()
    )
    assert {m["MetricStat"]["Period"] for m in props["Metrics"] if "MetricStat" in m} == {60}


def test_response_time_above_1_second_for_5_minutes(synthesis: Synthesis, env: str) -> None:
    props = alarm(synthesis, env, "TargetResponseTime")
    assert (props["MetricName"], props["Statistic"]) == ("TargetResponseTime", "Average")
    assert (props["Threshold"], props["EvaluationPeriods"], props["Period"]) == (1, 5, 60)


def test_unhealthy_targets_of_every_target_group_without_importing_one(
    synthesis: Synthesis, env: str
) -> None:
    props = alarm(synthesis, env, "UnhealthyTargets")
    (query,) = props["Metrics"]
    parts = query["Expression"]["Fn::Join"][1]
    assert parts[0].startswith("SELECT MAX(UnHealthyHostCount) FROM SCHEMA(")
    assert "LoadBalancerFullName" in parts[1]["Fn::ImportValue"]  # the ALB: never replaced
    assert parts[2] == "' GROUP BY TargetGroup" and props["Threshold"] == 0


def test_database_storage_and_connections(synthesis: Synthesis, env: str) -> None:
    rds = synthesis.environments[env].rds
    # Storage at any size: RDS's own events (percent used, autoscaling at its limits), not
    # a fixed number of free bytes that autoscaling makes meaningless.
    assert not [
        p for p in alarms(synthesis, env).values() if p.get("MetricName") == "FreeStorageSpace"
    ]
    (rule,) = [
        r
        for r in synthesis.resources(env, OBSERVABILITY, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.rds"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["EventID"] == [
        "RDS-EVENT-0007",
        "RDS-EVENT-0223",
        "RDS-EVENT-0224",
        "RDS-EVENT-0225",
    ]
    assert len(pattern["detail"]["SourceIdentifier"]) == (2 if env == "prod" else 1)
    (target,) = rule["Properties"]["Targets"]
    assert "AlertsTopic" in json.dumps(target["Arn"])
    key_policy = json.dumps(
        next(iter(synthesis.resources(env, OBSERVABILITY, "AWS::KMS::Key").values()))
    )
    assert "events.amazonaws.com" in key_policy and "aws:SourceAccount" in key_policy
    connections = alarm(synthesis, env, "DatabaseInstanceConnections")
    assert connections["Threshold"] == round(0.8 * max_connections(rds.instance_class))
    if env == "prod":
        alarm(synthesis, env, "DatabaseReadReplicaConnections")


def test_network_errors_above_1_percent_and_request_volume_anomalies(
    synthesis: Synthesis, env: str
) -> None:
    errors = alarm(synthesis, env, "NetworkErrorRate")
    assert errors["Threshold"] == 1 and errors["EvaluationPeriods"] == 2
    names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in errors["Metrics"] if "MetricStat" in m
    }
    assert names == {"TargetConnectionErrorCount", "RejectedConnectionCount", "RequestCount"}
    volume = alarm(synthesis, env, "RequestVolumeAnomaly")
    assert volume["ComparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
    band = next(m for m in volume["Metrics"] if "Expression" in m)["Expression"]
    assert band.startswith("ANOMALY_DETECTION_BAND(") and volume["ThresholdMetricId"]


def test_database_cpu_latency_memory_and_replica_lag(synthesis: Synthesis, env: str) -> None:
    rds = synthesis.environments[env].rds
    assert alarm(synthesis, env, "DatabaseInstanceCpu")["Threshold"] == 80
    for kind in ("Read", "Write"):
        latency = alarm(synthesis, env, f"DatabaseInstance{kind}Latency")
        assert latency["MetricName"] == f"{kind}Latency" and latency["Threshold"] == 0.02
    memory = alarm(synthesis, env, "DatabaseInstanceFreeableMemory")
    assert memory["ComparisonOperator"] == "LessThanThreshold"
    assert memory["Threshold"] == round(0.1 * memory_gib(rds.instance_class) * 1024**3)
    lags = [lid for lid in alarms(synthesis, env) if lid.startswith("DatabaseReadReplicaLag")]
    assert len(lags) == (1 if rds.read_replica else 0)


def test_critical_image_findings_and_privilege_changes_alert(
    synthesis: Synthesis, env: str
) -> None:
    rules = synthesis.resources(env, OBSERVABILITY, "AWS::Events::Rule")
    (scan,) = [
        r["Properties"] for lid, r in rules.items() if lid.startswith("CriticalImageFindings")
    ]
    pattern = scan["EventPattern"]
    assert pattern["detail-type"] == ["ECR Image Scan"]
    assert pattern["detail"]["finding-severity-counts"] == {"CRITICAL": [{"numeric": [">", 0]}]}
    assert sorted(pattern["detail"]["repository-name"]) == sorted(
        repository_name(env, service) for service in SERVICES
    )
    filters = synthesis.resources(env, OBSERVABILITY, "AWS::Logs::MetricFilter").values()
    patterns = [f["Properties"]["FilterPattern"] for f in filters]
    assert any(PRIVILEGE_CHANGE_EVENT in p for p in patterns)
    assert alarm(synthesis, env, "PrivilegeChange")["Threshold"] == 0


def test_max_connections_follow_instance_memory() -> None:
    assert max_connections("db.t3.micro") < max_connections("db.r6g.large")
    assert 85 <= max_connections("db.t3.micro") <= 112


def test_redis_cpu_memory_evictions_per_node(synthesis: Synthesis, env: str) -> None:
    found = alarms(synthesis, env)
    for kind, metric in (
        ("Cpu", "EngineCPUUtilization"),
        ("Memory", "DatabaseMemoryUsagePercentage"),
        ("Evictions", "Evictions"),
    ):
        nodes = [p for lid, p in found.items() if lid.startswith("Cache") and kind in lid]
        assert nodes and all(p["MetricName"] == metric for p in nodes)
        ids = {p["Dimensions"][0]["Value"] for p in nodes}
        assert f"health-platform-{env}-cache-0001-001" in ids


def test_security_events(synthesis: Synthesis, env: str) -> None:
    filters = synthesis.resources(env, OBSERVABILITY, "AWS::Logs::MetricFilter").values()
    patterns = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"] for f in filters
    }
    assert patterns["FailedLogins"]["FilterPattern"] == '{ $.event = "login.failed" }'
    assert "backend" in json.dumps(patterns["FailedLogins"]["LogGroupName"]).lower()
    assert "UnauthorizedOperation" in patterns["UnauthorizedApiCalls"]["FilterPattern"]
    assert "PutRolePolicy" in patterns["IamPolicyChanges"]["FilterPattern"]
    for name in ("FailedLoginSpike", "UnauthorizedApiCalls", "IamPolicyChanges"):
        assert alarm(synthesis, env, name)["Namespace"] == f"HealthPlatform/{env}"


def test_topic_is_encrypted_and_subscribed(synthesis: Synthesis, env: str) -> None:
    alerts = synthesis.environments[env].alerts
    (topic,) = synthesis.resources(env, OBSERVABILITY, "AWS::SNS::Topic").values()
    assert "AlertsKey" in json.dumps(topic["Properties"]["KmsMasterKeyId"])
    subscriptions = [
        s["Properties"]
        for s in synthesis.resources(env, OBSERVABILITY, "AWS::SNS::Subscription").values()
    ]
    emails = sorted(s["Endpoint"] for s in subscriptions if s["Protocol"] == "email")
    assert emails == sorted(alerts.emails)
    https = [s["Endpoint"] for s in subscriptions if s["Protocol"] == "https"]
    assert https == [e for e in (alerts.pagerduty_endpoint,) if e]
    # Slack through AWS Chatbot: a webhook could never confirm an SNS subscription.
    chatbot = synthesis.resources(
        env, OBSERVABILITY, "AWS::Chatbot::SlackChannelConfiguration"
    ).values()
    if alerts.slack is None:
        assert not chatbot
    else:
        (channel,) = [c["Properties"] for c in chatbot]
        assert channel["SlackWorkspaceId"] == alerts.slack.workspace_id
        assert channel["SlackChannelId"] == alerts.slack.channel_id
        assert "AlertsTopic" in json.dumps(channel["SnsTopicArns"])
        assert "CloudWatchReadOnlyAccess" in json.dumps(channel["GuardrailPolicies"])


def test_dashboard_covers_every_area(synthesis: Synthesis, env: str) -> None:
    (dashboard,) = synthesis.resources(env, OBSERVABILITY, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "AWS/ECS",
        "RequestCount",
        "p99",
        "AWS/RDS",
        "AWS/ElastiCache",
        "EstimatedCharges",
        "FailedLogins",
    ):
        assert needle in body, needle


def test_budget_alerts_at_80_and_100_percent(synthesis: Synthesis, env: str) -> None:
    (budget,) = synthesis.resources(env, OBSERVABILITY, "AWS::Budgets::Budget").values()
    props = budget["Properties"]
    assert (
        props["Budget"]["BudgetLimit"]["Amount"]
        == synthesis.environments[env].budget.monthly_limit_usd
    )
    thresholds = sorted(
        n["Notification"]["Threshold"] for n in props["NotificationsWithSubscribers"]
    )
    assert thresholds == [80, 100]
    assert all(
        n["Subscribers"][0]["SubscriptionType"] == "SNS"
        for n in props["NotificationsWithSubscribers"]
    )


def test_cloudtrail(synthesis: Synthesis, env: str) -> None:
    (trail,) = synthesis.resources(env, OBSERVABILITY, "AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["IsMultiRegionTrail"] is True
    assert props["EnableLogFileValidation"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert "AuditTrailKey" in json.dumps(props["KMSKeyId"])
    assert "AuditTrailBucket" in json.dumps(props["S3BucketName"])
    assert "CloudWatchLogsLogGroupArn" in props
    # Who read, wrote or deleted which patient document.
    (selector,) = props["EventSelectors"]
    assert selector["ReadWriteType"] == "All" and selector["IncludeManagementEvents"] is True
    (resource,) = selector["DataResources"]
    assert resource["Type"] == "AWS::S3::Object"
    assert "BucketsUploads" in json.dumps(resource["Values"])


def test_threat_detection_and_its_severe_findings_alert(synthesis: Synthesis, env: str) -> None:
    (detector,) = synthesis.resources(env, OBSERVABILITY, "AWS::GuardDuty::Detector").values()
    features = {f["Name"]: f["Status"] for f in detector["Properties"]["Features"]}
    assert features == {"S3_DATA_EVENTS": "ENABLED", "RDS_LOGIN_EVENTS": "ENABLED"}
    (hub,) = synthesis.resources(env, OBSERVABILITY, "AWS::SecurityHub::Hub").values()
    assert hub["Properties"]["EnableDefaultStandards"] is True
    (analyzer,) = synthesis.resources(env, OBSERVABILITY, "AWS::AccessAnalyzer::Analyzer").values()
    assert analyzer["Properties"]["Type"] == "ACCOUNT"
    topics = list(synthesis.resources(env, OBSERVABILITY, "AWS::SNS::Topic"))
    rules = {
        r["Properties"]["EventPattern"]["source"][0]: r["Properties"]
        for r in synthesis.resources(env, OBSERVABILITY, "AWS::Events::Rule").values()
    }
    for source in ("aws.guardduty", "aws.securityhub", "aws.access-analyzer"):
        assert [t["Arn"] for t in rules[source]["Targets"]] == [{"Ref": topics[0]}]
    guardduty = rules["aws.guardduty"]["EventPattern"]["detail"]
    assert guardduty == {"severity": [{"numeric": [">=", 7]}]}
    hub_findings = rules["aws.securityhub"]["EventPattern"]["detail"]["findings"]
    assert hub_findings["Severity"]["Label"] == ["HIGH", "CRITICAL"]
