"""The alert topic: KMS-encrypted, subscribed to the environment's destinations.

Email and PagerDuty are SNS subscriptions (both confirm theirs); Slack is an AWS Chatbot
channel on the topic, because a Slack webhook cannot confirm an SNS subscription."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from health_platform.infra.keys import customer_key
from health_platform.settings import AlertSettings

# Services that publish alerts into the encrypted topic: alarms, budgets, and EventBridge
# (RDS's storage events, AWS Backup's failed restores).
PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com")
# What people may do from the Slack channel: read metrics and alarms, nothing else (the
# default guardrail is AdministratorAccess).
CHATBOT_GUARDRAIL = "CloudWatchReadOnlyAccess"


class AlertTopic(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, settings: AlertSettings
    ) -> None:
        super().__init__(scope, construct_id)
        # Only on behalf of this account's resources (no confused deputy).
        this_account = {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
        self.key: kms.Key = customer_key(
            self, "Key", alias=f"alias/{name}/alerts", description="Encrypts alert messages"
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlertPublishers",
                principals=[iam.ServicePrincipal(service) for service in PUBLISHERS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=this_account,
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
                    conditions=this_account,
                )
            )
        for address in settings.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        if settings.pagerduty_endpoint:
            self.topic.add_subscription(subscriptions.UrlSubscription(settings.pagerduty_endpoint))
        if settings.slack:
            chatbot.SlackChannelConfiguration(
                self,
                "Slack",
                slack_channel_configuration_name=f"{name}-alerts",
                slack_workspace_id=settings.slack.workspace_id,
                slack_channel_id=settings.slack.channel_id,
                notification_topics=[self.topic],
                guardrail_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name(CHATBOT_GUARDRAIL)
                ],
            )
