"""AWS Backup's restore jobs that end badly, as alerts: the monthly restore test
(data/restore_testing.py) proves the backups restorable only if someone hears when it
does not.

AWS Backup reports every restore job's state to EventBridge ("Restore Job State Change";
a restore testing job carries its plan's ARN). A failed or aborted restore started by hand
is worth the same alert. The validation status of a restore test has no event of its own:
it is whatever the validator reports with PutRestoreValidationResult, so a validator
added later alerts by itself.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from constructs import Construct

from health_platform.infra.observability.event_alerts import alert_on_events

FAILED_STATES = ("FAILED", "ABORTED")


def restore_failures(scope: Construct, construct_id: str, *, topic: sns.ITopic) -> events.Rule:
    return alert_on_events(
        scope,
        construct_id,
        topic=topic,
        description="AWS Backup restore jobs (the monthly restore test) that failed",
        source="aws.backup",
        detail_type="Restore Job State Change",
        detail={"status": list(FAILED_STATES)},
    )
