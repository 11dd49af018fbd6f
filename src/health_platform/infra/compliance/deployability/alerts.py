"""SNS: an HTTP(S) subscription delivers nothing until its endpoint confirms it, which a
chat tool's incoming webhook cannot do (it never visits the SubscribeURL)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)

# Incoming webhooks of chat tools: none answers SNS's SubscriptionConfirmation.
UNCONFIRMABLE = {
    "Slack": re.compile(r"^https?://hooks\.slack\.com/"),
    "Microsoft Teams": re.compile(
        r"^https?://[^/]*(webhook\.office\.com|outlook\.office\.com/webhook)"
    ),
    "Google Chat": re.compile(r"^https?://chat\.googleapis\.com/"),
    "Discord": re.compile(r"^https?://(discord\.com|discordapp\.com)/api/webhooks/"),
}


def _endpoints(env: Environment) -> Iterator[tuple[Resource, str]]:
    for subscription in env.resources("AWS::SNS::Subscription"):
        protocol = subscription.properties.get("Protocol")
        endpoint = literal(subscription.properties.get("Endpoint")) or ""
        if protocol not in ("http", "https"):
            continue
        for tool, pattern in UNCONFIRMABLE.items():
            if pattern.match(endpoint):
                yield (
                    subscription,
                    (
                        f"a {tool} webhook cannot confirm an SNS subscription, so it would never"
                        " receive an alert; use AWS Chatbot (alerts.slack in the environment file)"
                    ),
                )


SNS_ENDPOINT_CONFIRMS = Rule(
    "HP-SNS-CONFIRMABLE",
    "Every HTTP(S) subscription's endpoint can confirm it",
    "https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html",
    _endpoints,
)
