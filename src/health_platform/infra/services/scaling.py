"""Service autoscaling: target tracking on CPU, memory and requests per target, plus the
environment's schedules."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from health_platform.settings import EcsSettings

CPU_TARGET_PERCENT = 70
MEMORY_TARGET_PERCENT = 75
REQUESTS_PER_TARGET = 1000


def autoscale(
    service: ecs.FargateService,
    settings: EcsSettings,
    target_group: elbv2.ApplicationTargetGroup,
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
    return scaling
