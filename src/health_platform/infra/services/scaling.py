"""Service autoscaling: target tracking on CPU, memory and requests per target, plus the
environment's schedules and its office hours (no task outside them)."""

from __future__ import annotations

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from health_platform.office_hours import OfficeHours
from health_platform.settings import EcsSettings

CPU_TARGET_PERCENT = 70
MEMORY_TARGET_PERCENT = 75
REQUESTS_PER_TARGET = 1000


def autoscale(
    service: ecs.FargateService,
    settings: EcsSettings,
    target_group: elbv2.ApplicationTargetGroup,
    office_hours: OfficeHours | None = None,
) -> ecs.ScalableTaskCount:
    scaling = service.auto_scale_task_count(
        min_capacity=settings.min_tasks, max_capacity=settings.max_tasks
    )
    # Out fast, in slowly: a patient kept waiting costs more than an idle task.
    scale_in, scale_out = Duration.seconds(300), Duration.seconds(60)
    scaling.scale_on_cpu_utilization(
        "Cpu",
        target_utilization_percent=CPU_TARGET_PERCENT,
        scale_in_cooldown=scale_in,
        scale_out_cooldown=scale_out,
    )
    scaling.scale_on_memory_utilization(
        "Memory",
        target_utilization_percent=MEMORY_TARGET_PERCENT,
        scale_in_cooldown=scale_in,
        scale_out_cooldown=scale_out,
    )
    scaling.scale_on_request_count(
        "Requests",
        requests_per_target=REQUESTS_PER_TARGET,
        target_group=target_group,
        scale_in_cooldown=scale_in,
        scale_out_cooldown=scale_out,
    )
    for schedule in settings.scheduled_scaling:
        scaling.scale_on_schedule(
            schedule.name,
            schedule=appscaling.Schedule.expression(f"cron({schedule.cron})"),
            min_capacity=schedule.min_tasks,
            max_capacity=schedule.max_tasks,
        )
    if office_hours:
        _office_hours(scaling, settings, office_hours)
    return scaling


def _office_hours(
    scaling: ecs.ScalableTaskCount, settings: EcsSettings, hours: OfficeHours
) -> None:
    """No task outside office hours (a maximum of 0 stops the running ones), the usual range
    inside them. The database starts before the first action and stops after the second."""
    zone = TimeZone.of(hours.time_zone)
    for name, at, low, high in (
        ("OfficeHoursStart", hours.opens, settings.min_tasks, settings.max_tasks),
        ("OfficeHoursStop", hours.closes, 0, 0),
    ):
        scaling.scale_on_schedule(
            name,
            schedule=appscaling.Schedule.expression(f"cron({hours.cron(at)})"),
            time_zone=zone,
            min_capacity=low,
            max_capacity=high,
        )
