"""Alarms at the seed's thresholds. Each notifies the alert topic on ALARM and on OK."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class Threshold:
    value: float
    minutes: int  # how long the condition must hold
    below: bool = False


class Alarms(Construct):
    """A factory of alarms that all speak to one topic."""

    def __init__(self, scope: Construct, construct_id: str, *, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self._action = actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []

    def add(
        self, name: str, metric: cloudwatch.IMetric, threshold: Threshold, description: str
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_description=description,
            metric=metric,
            threshold=threshold.value,
            evaluation_periods=threshold.minutes,
            datapoints_to_alarm=threshold.minutes,
            comparison_operator=(
                cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
                if threshold.below
                else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            ),
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def anomaly(
        self, name: str, metric: cloudwatch.Metric, std_devs: float, minutes: int, description: str
    ) -> cloudwatch.AnomalyDetectionAlarm:
        """Outside the band CloudWatch learns from the metric's own history, either way."""
        alarm = cloudwatch.AnomalyDetectionAlarm(
            self,
            name,
            alarm_description=description,
            metric=metric,
            std_devs=std_devs,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        return alarm


def metric(
    namespace: str, name: str, dimensions: dict[str, str], statistic: str = "Average"
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=MINUTE,
    )


def log_pattern_metric(
    scope: Construct,
    construct_id: str,
    *,
    log_group: logs.ILogGroup,
    pattern: logs.IFilterPattern,
    namespace: str,
    name: str,
) -> cloudwatch.Metric:
    """Count log events matching `pattern` as a metric (0 when none match). The filter
    belongs to `scope`'s stack, whichever stack owns the log group."""
    logs.MetricFilter(
        scope,
        construct_id,
        log_group=log_group,
        filter_pattern=pattern,
        metric_namespace=namespace,
        metric_name=name,
        metric_value="1",
        default_value=0,
    )
    return cloudwatch.Metric(
        namespace=namespace, metric_name=name, statistic="Sum", period=Duration.minutes(5)
    )
