"""The database outside office hours: EventBridge Scheduler stops it after the day and
starts it before the next (health_platform.office_hours). Scheduler calls RDS itself (a
universal target), so no function of ours runs for it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.services.roles import role_with_policy
from health_platform.office_hours import DATABASE_LAG, DATABASE_LEAD, OfficeHours

# A missed stop costs an evening of instance hours, a missed start a morning: try a few
# times within the hour, then drop the call (counted; the observability stack alarms on a
# dropped stop; a failed start shows at 07:00 as unhealthy targets and in `hp doctor`).
RETRY_ATTEMPTS = 3
MAX_EVENT_AGE = Duration.hours(1)


class DatabaseSleep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: str,
        hours: OfficeHours,
        instance: rds.DatabaseInstance,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        plan = (
            ("Stop", "stop", "stopDBInstance", hours.closes + DATABASE_LAG),
            ("Start", "start", "startDBInstance", hours.opens - DATABASE_LEAD),
        )
        self.groups = {
            action: scheduler.ScheduleGroup(
                self,
                f"{name}Group",
                schedule_group_name=naming.office_hours_group(env, action),
                removal_policy=RemovalPolicy.DESTROY,
            )
            for name, action, _, _ in plan
        }
        # Starting an encrypted instance needs no key permission of the caller's (RDS holds
        # its own grant); stopping and starting this instance is all this role may do.
        _, role = role_with_policy(
            self,
            "Role",
            service="scheduler.amazonaws.com",
            description="EventBridge Scheduler: stop and start the database outside office hours",
            # AWS's confused-deputy guidance: the account, and the groups (not a schedule).
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnEquals": {
                    "aws:SourceArn": [group.schedule_group_arn for group in self.groups.values()]
                },
            },
            statements=[
                iam.PolicyStatement(
                    actions=["rds:StopDBInstance", "rds:StartDBInstance"],
                    resources=[instance.instance_arn],
                )
            ],
        )
        zone = TimeZone.of(hours.time_zone)
        for name, action, call, at in plan:
            minute, hour, days = hours.cron_fields(at)
            scheduler.Schedule(
                self,
                name,
                schedule_group=self.groups[action],
                description=f"{name} the database ({hours.describe()})",
                schedule=scheduler.ScheduleExpression.cron(
                    minute=minute, hour=hour, week_day=days, time_zone=zone
                ),
                target=targets.Universal(
                    service="rds",
                    action=call,
                    # Scheduler's input names the SDK's members as its console does.
                    input=scheduler.ScheduleTargetInput.from_object(
                        {"DbInstanceIdentifier": instance.instance_identifier}
                    ),
                    role=role,  # immutable: its one managed policy above is all it may do
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                ),
            )
