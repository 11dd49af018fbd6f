"""The API's way to email account owners (api/mail.py's SesMailer): an SES identity for the
environment's hosted zone, verified and DKIM-signed by the records CDK adds to the zone
(Easy DKIM), and the one permission the API needs: send, from its own address only.

A domain identity covers its subdomains, so `no-reply@<domain>` needs no identity of its
own. A new account is in SES's sandbox (mail only to verified addresses) until production
access is granted: docs/operations.md says how."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from constructs import Construct

SENDER_NAME = "no-reply"


class MailIdentity(Construct):
    def __init__(self, scope: Construct, id: str, *, zone: route53.IPublicHostedZone, domain: str):
        super().__init__(scope, id)
        self.identity = ses.EmailIdentity(
            self, "Identity", identity=ses.Identity.public_hosted_zone(zone)
        )
        self.sender = f"{SENDER_NAME}@{domain}"

    def send_statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[self.identity.email_identity_arn],
            conditions={"StringEquals": {"ses:FromAddress": self.sender}},
        )
