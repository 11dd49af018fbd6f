"""EventBridge rules that turn an AWS service's events into alerts: the services that report
what needs a person only as events (GuardDuty, Security Hub, Access Analyzer, AWS Config,
ECR's scans, RDS's and AWS Backup's events) reach the alert topic through one of these.
The topic's key and policy let EventBridge publish (alerts.PUBLISHERS)."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct


def alert_on_events(
    scope: Construct,
    construct_id: str,
    *,
    topic: sns.ITopic,
    description: str,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
) -> events.Rule:
    """Send the events of `source` whose type is `detail_type` and whose detail matches
    `detail` (an EventBridge pattern) to `topic`."""
    return events.Rule(
        scope,
        construct_id,
        description=description,
        event_pattern=events.EventPattern(
            source=[source], detail_type=[detail_type], detail=detail
        ),
        targets=[targets.SnsTopic(topic)],
    )
