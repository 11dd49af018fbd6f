"""A monthly AWS Budgets cost budget for the environment, alerting at 80% and 100%."""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct

ALERT_PERCENTAGES = (80, 100)


class CostBudget(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        env: str,
        monthly_limit_usd: float,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_limit_usd, unit="USD"),
                # Counts what carries this environment's tag; activate `Environment` as a
                # cost allocation tag in the billing console for the filter to see it.
                cost_filters={"TagKeyValue": [f"user:Environment${env}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=percentage,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[
                        budgets.CfnBudget.SubscriberProperty(
                            address=topic.topic_arn, subscription_type="SNS"
                        )
                    ],
                )
                for percentage in ALERT_PERCENTAGES
            ],
        )
