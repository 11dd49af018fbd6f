"""The account's threat detection in the environment's region, its findings of high severity
sent to the alert topic (the seed's security monitoring: unusual access, data-access
anomalies, external access):

- GuardDuty, with S3 protection (data events on the buckets) and RDS protection (sign-in
  anomalies on the database);
- Security Hub, with AWS's default standards (Foundational Security Best Practices, CIS);
- IAM Access Analyzer for the account: anything shared outside it.

Each is one per account and region: an account whose organization already manages them
cannot create them a second time. With `create_services=False` (the environment's
`security_services: existing`) only the rules that send their findings to the topic are
made; the services are the organization's (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_accessanalyzer as accessanalyzer
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_sns as sns
from constructs import Construct

from health_platform.infra.observability.event_alerts import alert_on_events

# GuardDuty's severities run 1-8.9; 7 and above are "high" (and "critical" from 9).
GUARDDUTY_HIGH = 7
SECURITY_HUB_SEVERE = ("HIGH", "CRITICAL")
GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS")

# Rule id: (source, detail type, what of the detail makes a finding worth an alert).
FINDINGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "GuardDutyFindings": (
        "aws.guardduty",
        "GuardDuty Finding",
        {"severity": [{"numeric": [">=", GUARDDUTY_HIGH]}]},
    ),
    "SecurityHubFindings": (
        "aws.securityhub",
        "Security Hub Findings - Imported",
        {
            "findings": {
                "Severity": {"Label": list(SECURITY_HUB_SEVERE)},
                "Workflow": {"Status": ["NEW"]},
                "RecordState": ["ACTIVE"],
            }
        },
    ),
    "AccessAnalyzerFindings": (
        "aws.access-analyzer",
        "Access Analyzer Finding",
        {"status": ["ACTIVE"]},
    ),
}


class ThreatDetection(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        topic: sns.ITopic,
        create_services: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        if create_services:
            guardduty.CfnDetector(
                self,
                "GuardDuty",
                enable=True,
                finding_publishing_frequency="FIFTEEN_MINUTES",
                features=[
                    guardduty.CfnDetector.CFNFeatureConfigurationProperty(name=f, status="ENABLED")
                    for f in GUARDDUTY_FEATURES
                ],
            )
            securityhub.CfnHub(self, "SecurityHub", enable_default_standards=True)
            accessanalyzer.CfnAnalyzer(self, "AccessAnalyzer", type="ACCOUNT", analyzer_name=name)
        # Kept whoever runs the services: they alert on the findings that reach this
        # account's event bus. Findings an organization keeps only in its security account
        # alert there, on its own terms (docs/operations.md).
        for rule_id, (source, detail_type, detail) in FINDINGS.items():
            alert_on_events(
                self,
                rule_id,
                topic=topic,
                description=f"{detail_type}s of high severity to the alert topic",
                source=source,
                detail_type=detail_type,
                detail=detail,
            )
