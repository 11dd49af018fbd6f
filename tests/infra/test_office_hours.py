"""Office hours in the templates: dev's database is stopped and started by EventBridge
Scheduler, its tasks scaled to none and back, and every job that needs the database placed
inside the hours; staging and prod run around the clock."""

from __future__ import annotations

import json

from health_platform.infra.data.database import BACKUP_WINDOW_UTC, MAINTENANCE_WINDOW_UTC
from health_platform.infra.naming import DATA, OBSERVABILITY, SERVICES, office_hours_group
from health_platform.office_hours import OfficeHours
from tests.infra.conftest import Synthesis


def _hours(synthesis: Synthesis) -> OfficeHours:
    hours = synthesis.environments["dev"].office_hours
    assert hours is not None, "dev's environment file sets office hours"
    return hours


def _only(resources: dict[str, dict]) -> dict:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def test_the_database_is_stopped_after_the_day_and_started_before_it(
    synthesis: Synthesis,
) -> None:
    hours = _hours(synthesis)
    schedules = synthesis.resources("dev", DATA, "AWS::Scheduler::Schedule").values()
    by_action = {s["Properties"]["Target"]["Arn"]["Fn::Join"][1][-1]: s for s in schedules}
    assert set(by_action) == {
        ":scheduler:::aws-sdk:rds:stopDBInstance",
        ":scheduler:::aws-sdk:rds:startDBInstance",
    }
    stop = by_action[":scheduler:::aws-sdk:rds:stopDBInstance"]["Properties"]
    start = by_action[":scheduler:::aws-sdk:rds:startDBInstance"]["Properties"]
    assert stop["ScheduleExpression"] == "cron(15 19 ? * MON,TUE,WED,THU,FRI *)"
    assert start["ScheduleExpression"] == "cron(30 6 ? * MON,TUE,WED,THU,FRI *)"
    for schedule in (stop, start):
        assert schedule["ScheduleExpressionTimezone"] == hours.time_zone
    assert stop["GroupName"] == office_hours_group("dev", "stop")
    assert start["GroupName"] == office_hours_group("dev", "start")
    for schedule in (stop, start):
        target = schedule["Target"]
        assert json.dumps(target["Input"]).count("DbInstanceIdentifier") == 1
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_the_schedulers_role_may_only_stop_and_start_this_database(synthesis: Synthesis) -> None:
    roles = synthesis.resources("dev", DATA, "AWS::IAM::Role").values()
    role = next(
        r["Properties"]
        for r in roles
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "scheduler.amazonaws.com"}
    )
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert "aws:SourceAccount" in trust["StringEquals"]
    assert len(trust["ArnEquals"]["aws:SourceArn"]) == 2  # the stop group and the start group
    (reference,) = role["ManagedPolicyArns"]
    policy = synthesis.resources("dev", DATA, "AWS::IAM::ManagedPolicy")[reference["Ref"]]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["rds:StartDBInstance", "rds:StopDBInstance"]
    assert "DatabaseInstance" in json.dumps(statement["Resource"])
    assert not synthesis.resources("dev", DATA, "AWS::IAM::Policy")  # no inline policy


def test_every_job_that_needs_the_database_runs_inside_the_hours(synthesis: Synthesis) -> None:
    """Dev's 07:00-19:00 in New York (UTC-5 in winter, UTC-4 in summer): the UTC windows
    fall inside it at both offsets (tests/unit/test_office_hours.py checks every zone)."""
    database = next(
        r
        for logical_id, r in synthesis.resources("dev", DATA, "AWS::RDS::DBInstance").items()
        if logical_id.startswith("DatabaseInstance")
    )["Properties"]
    assert database["PreferredBackupWindow"] == "12:30-13:30"  # 07:30 or 08:30 in New York
    assert database["PreferredMaintenanceWindow"] == "mon:14:00-mon:15:00"
    rotation = _only(synthesis.resources("dev", DATA, "AWS::SecretsManager::RotationSchedule"))
    assert rotation["Properties"]["RotationRules"] == {
        "ScheduleExpression": "cron(0 17 ? * MON *)",  # 12:00 or 13:00 in New York
        "Duration": "2h",
    }
    assert rotation["Properties"]["RotateImmediatelyOnUpdate"] is False
    (rule,) = _only(synthesis.resources("dev", DATA, "AWS::Backup::BackupPlan"))["Properties"][
        "BackupPlan"
    ]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 11 ? * MON,TUE,WED,THU,FRI *)"
    assert rule["ScheduleExpressionTimezone"] == "America/New_York"
    # Kept over the weekend, so a recovery point always exists (and the restore test finds one).
    assert rule["Lifecycle"]["DeleteAfterDays"] == 4
    restore = _only(synthesis.resources("dev", DATA, "AWS::Backup::RestoreTestingPlan"))
    assert restore["Properties"]["RecoveryPointSelection"]["SelectionWindowDays"] == 4


def test_the_services_run_no_task_outside_the_hours(synthesis: Synthesis) -> None:
    hours, ecs = _hours(synthesis), synthesis.environments["dev"].ecs
    targets = synthesis.resources("dev", SERVICES, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 2
    for target in targets.values():
        actions = {a["ScheduledActionName"]: a for a in target["Properties"]["ScheduledActions"]}
        assert actions["OfficeHoursStop"]["ScalableTargetAction"] == {
            "MinCapacity": 0,
            "MaxCapacity": 0,
        }
        assert actions["OfficeHoursStart"]["ScalableTargetAction"] == {
            "MinCapacity": ecs.min_tasks,
            "MaxCapacity": ecs.max_tasks,
        }
        assert actions["OfficeHoursStop"]["Schedule"] == "cron(0 19 ? * MON,TUE,WED,THU,FRI *)"
        assert {a["Timezone"] for a in actions.values()} == {hours.time_zone}


def test_a_failed_stop_is_an_alarm_and_the_night_is_not(synthesis: Synthesis) -> None:
    alarms = synthesis.resources("dev", OBSERVABILITY, "AWS::CloudWatch::Alarm")
    failed = next(a for i, a in alarms.items() if i.startswith("AlarmsOfficeHoursStop"))
    metrics = [
        m["MetricStat"]["Metric"] for m in failed["Properties"]["Metrics"] if "MetricStat" in m
    ]
    assert sorted(m["MetricName"] for m in metrics) == [
        "InvocationDroppedCount",
        "TargetErrorCount",
    ]
    group = [{"Name": "ScheduleGroup", "Value": office_hours_group("dev", "stop")}]
    assert all(m["Dimensions"] == group for m in metrics)
    elb = next(a for i, a in alarms.items() if i.startswith("AlarmsAlb5xxRate"))
    expressions = [m.get("Expression", "") for m in elb["Properties"]["Metrics"]]
    assert any(e.startswith("IF(desired > 0,") for e in expressions)


def test_staging_and_prod_run_around_the_clock(synthesis: Synthesis) -> None:
    for env in ("staging", "prod"):
        assert synthesis.environments[env].office_hours is None
        assert not synthesis.resources(env, DATA, "AWS::Scheduler::Schedule")
        database = next(
            r
            for logical_id, r in synthesis.resources(env, DATA, "AWS::RDS::DBInstance").items()
            if logical_id.startswith("DatabaseInstance")
        )["Properties"]
        assert database["PreferredBackupWindow"] == BACKUP_WINDOW_UTC
        assert database["PreferredMaintenanceWindow"] == MAINTENANCE_WINDOW_UTC
        alarms = synthesis.resources(env, OBSERVABILITY, "AWS::CloudWatch::Alarm")
        assert not [i for i in alarms if i.startswith("AlarmsOfficeHours")]
