"""The alert topic: KMS-encrypted, subscribed to the environment's destinations."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from health_platform.infra.keys import customer_key
from health_platform.settings import AlertSettings

# Services that publish alerts into the encrypted topic.
PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com")


class AlertTopic(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, settings: AlertSettings
    ) -> None:
        super().__init__(scope, construct_id)
        self.key: kms.Key = customer_key(
            self, "Key", alias=f"alias/{name}/alerts", description="Encrypts alert messages"
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlertPublishers",
                principals=[iam.ServicePrincipal(service) for service in PUBLISHERS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "Topic", topic_name=f"{name}-alerts", master_key=self.key, enforce_ssl=True
        )
        for service in PUBLISHERS:
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                )
            )
        for address in settings.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        for endpoint in (settings.pagerduty_endpoint, settings.slack_endpoint):
            if endpoint:
                self.topic.add_subscription(subscriptions.UrlSubscription(endpoint))
