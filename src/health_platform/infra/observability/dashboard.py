"""One CloudWatch dashboard per environment: infrastructure, application, data, cost."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct


def graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], width: int = 8
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=6)


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        rows: list[list[cloudwatch.IWidget]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            default_interval=Duration.hours(3),
        )
        for row in rows:
            self.dashboard.add_widgets(*row)


def estimated_charges() -> cloudwatch.Metric:
    """Billing metrics exist only in us-east-1, whatever the environment's region."""
    return cloudwatch.Metric(
        namespace="AWS/Billing",
        metric_name="EstimatedCharges",
        dimensions_map={"Currency": "USD"},
        statistic="Maximum",
        period=Duration.hours(6),
        region="us-east-1",
    )
