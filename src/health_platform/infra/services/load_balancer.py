"""The Application Load Balancer: HTTPS only, reachable only from CloudFront, `/api/*` to
the backend and everything else to the frontend.

One ingress rule per security group, 443 from one of CloudFront's origin-facing prefix
lists: a prefix-list reference weighs its maximum entries (55) against the 60 rules a
security group may hold per direction, so a second one (port 80) would exceed the quota.
The IPv6 list has a group of its own: AWS counts IPv4 and IPv6 rules apart, but how it
counts a prefix list of each family in one group is not documented, and two groups hold
either way (and let `dualstack` drop the IPv4 one by itself later). CloudFront
reaches the origin over HTTPS only, and viewers' HTTP is redirected at the edge, so there
is no port 80 listener either. From the ALB to the tasks it is HTTPS again: each task
serves TLS with a certificate it makes when it starts (AWS: the load balancer validates no
target certificate, so a self-signed one serves).

Over IPv6 (`edge.origin_ip: ipv6`) the load balancer has no public IPv4 address at all
(dualstack-without-public-ipv4: IPv6 to CloudFront, private IPv4 to the tasks), which AWS
does not bill; `dualstack` keeps both while an environment moves."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from health_platform.contract import HEALTH_PATH
from health_platform.infra.data.buckets import ALB_LOG_PREFIX
from health_platform.infra.services.prefix_lists import CLOUDFRONT_IPV6

ADDRESS_TYPES = {
    "ipv4": elbv2.IpAddressType.IPV4,
    "dualstack": elbv2.IpAddressType.DUAL_STACK,
    "ipv6": elbv2.IpAddressType.DUAL_STACK_WITHOUT_PUBLIC_IPV4,
}

# How long a connection may stay silent before the ALB closes it; each byte restarts it.
IDLE_TIMEOUT_SECONDS = 60


def origin_name(domain: str) -> str:
    """The name CloudFront reaches the load balancer by, with a certificate that matches."""
    return f"origin.{domain}"


class LoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        domain: str,
        zone: route53.IHostedZone,
        cloudfront_prefix_list_id: str,
        cloudfront_ipv6_prefix_list_id: str | None,
        origin_ip: str,
        access_logs: s3.IBucket,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Load balancer: HTTPS from CloudFront only",
            allow_all_outbound=False,
        )
        if origin_ip != "ipv6":
            self.security_group.add_ingress_rule(
                ec2.Peer.prefix_list(cloudfront_prefix_list_id),
                ec2.Port.tcp(443),
                "HTTPS from CloudFront",
            )
        groups = [self.security_group]
        if origin_ip != "ipv4":
            assert cloudfront_ipv6_prefix_list_id is not None, f"{CLOUDFRONT_IPV6}'s id"
            over_ipv6 = ec2.SecurityGroup(
                self,
                "CloudFrontIpv6",
                vpc=vpc,
                description="Load balancer: HTTPS from CloudFront over IPv6 only",
                allow_all_outbound=False,
            )
            over_ipv6.add_ingress_rule(
                ec2.Peer.prefix_list(cloudfront_ipv6_prefix_list_id),
                ec2.Port.tcp(443),
                "HTTPS from CloudFront over IPv6",
            )
            groups.append(over_ipv6)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            ip_address_type=ADDRESS_TYPES[origin_ip],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
            http2_enabled=True,
            idle_timeout=Duration.seconds(IDLE_TIMEOUT_SECONDS),
        )
        # Logs go to the data stack's bucket, whose policy already admits this region's
        # load balancers; log_access_logs() would add a second grant there.
        for key, value in {
            "access_logs.s3.enabled": "true",
            "access_logs.s3.bucket": access_logs.bucket_name,
            "access_logs.s3.prefix": ALB_LOG_PREFIX,
        }.items():
            self.alb.set_attribute(key, value)
        self.origin_name = origin_name(domain)
        certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=self.origin_name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        self.https = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[certificate],
            # TLS 1.2 (ECDHE with AES-GCM only) and 1.3; see deployability/listeners.py.
            ssl_policy=elbv2.SslPolicy.TLS13_RES,
            open=False,
            # The default action is the frontend's target group, added by route().
        )
        route53.ARecord(
            self,
            "OriginRecord",
            zone=zone,
            record_name=self.origin_name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(self.alb)),
        )
        for group in groups[1:]:
            self.alb.add_security_group(group)
        if origin_ip != "ipv4":  # CloudFront finds an IPv6 origin by its AAAA record
            route53.AaaaRecord(
                self,
                "OriginRecordV6",
                zone=zone,
                record_name=self.origin_name,
                target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(self.alb)),
            )

    def route(
        self,
        name: str,
        *,
        port: int,
        service: elbv2.IApplicationLoadBalancerTarget,
        priority: int | None = None,
        paths: list[str] | None = None,
    ) -> elbv2.ApplicationTargetGroup:
        """Send `paths` (or, without them, everything else) to `service` on `port`."""
        group = elbv2.ApplicationTargetGroup(
            self,
            f"{name.capitalize()}Targets",
            vpc=self.alb.vpc,
            port=port,
            # TLS to the tasks too (each makes its own certificate at start; the ALB
            # validates none), and so to their health checks.
            protocol=elbv2.ApplicationProtocol.HTTPS,
            target_type=elbv2.TargetType.IP,
            targets=[service],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTPS,
                path=HEALTH_PATH,
                healthy_http_codes="200",
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        if paths:
            self.https.add_target_groups(
                name.capitalize(),
                target_groups=[group],
                priority=priority,
                conditions=[elbv2.ListenerCondition.path_patterns(paths)],
            )
        else:
            self.https.add_target_groups(name.capitalize(), target_groups=[group])
        return group
