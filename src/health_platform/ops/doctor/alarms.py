"""The environment's CloudWatch alarms that are in ALARM."""

from __future__ import annotations

from health_platform.checks import Check
from health_platform.infra import naming
from health_platform.ops.doctor.environment import Environment


def check_alarms(e: Environment) -> list[Check]:
    pages = (
        e.client("cloudwatch")
        .get_paginator("describe_alarms")
        .paginate(StateValue="ALARM", AlarmNamePrefix=f"{naming.resource_name(e.env)}-")
    )
    firing = [
        alarm
        for page in pages
        for alarm in page["MetricAlarms"]  # the stacks make no composite alarms
        if alarm["StateValue"] == "ALARM"  # some endpoints (moto) apply one filter only
    ]
    if not firing:
        return [Check("alarms", "in ALARM", "pass", "none")]
    hint = f"its reason says what crossed; `hp logs {e.env} --since 1h` shows what happened"
    return [
        Check("alarms", alarm["AlarmName"], "fail", alarm.get("StateReason", "in ALARM"), hint)
        for alarm in firing
    ]
