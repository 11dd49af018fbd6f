"""`health-platform-<env>-edge`, always in us-east-1 (CloudFront's certificates and web
ACLs live there): certificate, WAF, CloudFront, DNS.

It reaches the other stacks only by name (the origin's DNS name, the static bucket's fixed
name), never by reference, because they may live in another region.
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from health_platform.infra import naming
from health_platform.infra.data import retention
from health_platform.infra.data.buckets import private_bucket
from health_platform.infra.edge.distribution import Distribution
from health_platform.infra.edge.firewall import WebFirewall
from health_platform.infra.keys import logs_key
from health_platform.infra.services.load_balancer import origin_name
from health_platform.infra.stacks.base import PlatformStack
from health_platform.infra.stacks.services import ServicesStack
from health_platform.settings import EnvironmentSettings


class EdgeStack(PlatformStack):
    part = naming.EDGE

    def __init__(
        self, scope: Construct, settings: EnvironmentSettings, *, services: ServicesStack
    ) -> None:
        super().__init__(
            scope,
            settings,
            region=naming.CLOUDFRONT_REGION,
            description="CloudFront, WAF, certificate, DNS",
        )
        self.add_stack_dependency(services)  # the origin record must exist first
        env, domain = settings.name, settings.domain
        name = naming.resource_name(env)
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.hosted_zone_name
        )
        certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=domain.name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        firewall = WebFirewall(
            self,
            "Firewall",
            name=name,
            rate_limit_per_5_minutes=settings.edge.rate_limit_per_5_minutes,
            logs_key=logs_key(self, "LogsKey", alias=f"alias/{naming.PROJECT}/{env}/edge-logs"),
            log_retention_days=settings.ecs.log_retention_days,
        )
        static_assets = s3.Bucket.from_bucket_attributes(
            self,
            "StaticAssets",
            bucket_name=naming.bucket_name(env, "static", settings.account),
            region=settings.region,
        )
        # CloudFront's standard logs: the form auditors' tools read. Their delivery writes
        # with an ACL and SSE-S3, so this bucket has ACLs enabled and no KMS key.
        log_bucket = private_bucket(
            self,
            "CdnLogs",
            name=naming.bucket_name(env, "cdn-logs", settings.account),
            key=None,
            access_logs=None,
            retention=retention.LOGS,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        )
        self.distribution = Distribution(
            self,
            "Cdn",
            name=name,
            domain=domain.name,
            origin_name=origin_name(domain.name),
            origin_ip=settings.edge.origin_ip,
            static_assets=static_assets,
            certificate=certificate,
            web_acl_arn=firewall.web_acl.attr_arn,
            log_bucket=log_bucket,
        ).distribution
        alias = route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))
        route53.ARecord(self, "AliasV4", zone=zone, record_name=domain.name, target=alias)
        route53.AaaaRecord(self, "AliasV6", zone=zone, record_name=domain.name, target=alias)
        CfnOutput(self, "DistributionId", value=self.distribution.distribution_id)
        CfnOutput(self, "DistributionDomainName", value=self.distribution.domain_name)
        CfnOutput(self, "Url", value=f"https://{domain.name}")
