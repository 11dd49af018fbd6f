"""CloudFront in front of the load balancer (HTTPS to the origin) and of the static assets
bucket (origin access control), with security headers on every response and standard
access logs in an S3 bucket.

The frontend's responses are the same for everyone, so its cache key is the path alone:
no cookies, no query string, no headers (a key holding the session cookie would keep a
copy of every asset per signed-in user). Nothing of the viewer's request but the path
reaches the frontend either, so the load balancer sees CloudFront's Host, the origin's
name, which its certificate matches."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from health_platform.contract import API_PATH_PATTERN

STATIC_PATH = "/static/*"
HSTS_MAX_AGE = Duration.days(730)
CDN_LOG_PREFIX = "cloudfront/"


def shared_response_cache(scope: Construct, name: str) -> cloudfront.CachePolicy:
    """Cached as long as the origin's Cache-Control says (hashed assets a year, index.html
    never), keyed on the path and the encodings CloudFront compresses to."""
    return cloudfront.CachePolicy(
        scope,
        "SharedResponses",
        cache_policy_name=f"{name}-shared-responses",
        comment="Responses that are the same for every viewer: keyed on the path only",
        default_ttl=Duration.seconds(0),  # no Cache-Control: not cached
        min_ttl=Duration.seconds(0),
        max_ttl=Duration.days(365),
        cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        header_behavior=cloudfront.CacheHeaderBehavior.none(),
        query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
        enable_accept_encoding_gzip=True,
        enable_accept_encoding_brotli=True,
    )


def security_headers(scope: Construct, name: str) -> cloudfront.ResponseHeadersPolicy:
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "SecurityHeaders",
        response_headers_policy_name=f"{name}-security-headers",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=HSTS_MAX_AGE,
                include_subdomains=True,
                preload=True,
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                override=True,
            ),
            xss_protection=cloudfront.ResponseHeadersXSSProtection(
                protection=True, mode_block=True, override=True
            ),
        ),
    )


ORIGIN_IP_TYPES = {
    "ipv4": cloudfront.OriginIpAddressType.IPV4,
    "dualstack": cloudfront.OriginIpAddressType.DUALSTACK,
    "ipv6": cloudfront.OriginIpAddressType.IPV6,
}


class Distribution(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        domain: str,
        origin_name: str,
        origin_ip: str,
        static_assets: s3.IBucket,
        certificate: acm.ICertificate,
        web_acl_arn: str,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        headers = security_headers(self, name)
        load_balancer = origins.HttpOrigin(
            origin_name,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=Duration.seconds(60),
            # Over IPv6 the origin needs an AAAA record and no public IPv4 address (rule
            # HP-CF-ORIGIN-IP checks both sides).
            ip_address_type=ORIGIN_IP_TYPES[origin_ip],
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{name}: the platform's public entry point",
            domain_names=[domain],
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix=CDN_LOG_PREFIX,
            log_includes_cookies=False,  # session cookies never go into a log
            default_behavior=cloudfront.BehaviorOptions(
                # The frontend's Nginx sets the cache headers: hashed assets for a year,
                # index.html never. No origin request policy: nothing of the viewer's.
                origin=load_balancer,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=shared_response_cache(self, name),
                response_headers_policy=headers,
                compress=True,
            ),
            additional_behaviors={
                API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    # Never cached; cookies, query strings and headers reach the API. The
                    # Host header stays the origin's so its certificate matches.
                    origin=load_balancer,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=headers,
                ),
                STATIC_PATH: cloudfront.BehaviorOptions(
                    origin=origins.S3BucketOrigin.with_origin_access_control(
                        static_assets,
                        # The bucket's policy and key are managed by the data stack, which
                        # admits this account's distributions.
                        origin_access_levels=[cloudfront.AccessLevel.READ],
                    ),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    response_headers_policy=headers,
                    compress=True,
                ),
            },
        )
