"""The edge stack: CloudFront behaviours, TLS, security headers, WAF, DNS — in us-east-1."""

from __future__ import annotations

import json
from typing import Any

from health_platform.infra.naming import DATA, EDGE
from tests.infra.conftest import Synthesis

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution(synthesis: Synthesis, env: str) -> dict[str, Any]:
    (resource,) = synthesis.resources(env, EDGE, "AWS::CloudFront::Distribution").values()
    return resource["Properties"]["DistributionConfig"]  # type: ignore[no-any-return]


def test_edge_lives_in_us_east_1(synthesis: Synthesis, env: str) -> None:
    artifact = synthesis.manifest()["artifacts"][f"health-platform-{env}-edge"]
    assert artifact["environment"].endswith("/us-east-1")


def test_tls_and_aliases(synthesis: Synthesis, env: str) -> None:
    config = distribution(synthesis, env)
    domain = synthesis.environments[env].domain.name
    assert config["Aliases"] == [domain]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    synthesis.template(env, EDGE).has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {"DomainName": domain, "ValidationMethod": "DNS"},
    )


def test_origin_is_the_load_balancer_over_https(synthesis: Synthesis, env: str) -> None:
    config = distribution(synthesis, env)
    domain = synthesis.environments[env].domain.name
    (custom,) = [o for o in config["Origins"] if "CustomOriginConfig" in o]
    assert custom["DomainName"] == f"origin.{domain}"
    assert custom["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert custom["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    # Over the address family the load balancer has (edge.origin_ip; rule HP-CF-ORIGIN-IP).
    reached = synthesis.environments[env].edge.origin_ip
    assert custom["CustomOriginConfig"]["IpAddressType"] == reached
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == custom["Id"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_api_is_never_cached_and_gets_what_it_needs(synthesis: Synthesis, env: str) -> None:
    behaviours = {b["PathPattern"]: b for b in distribution(synthesis, env)["CacheBehaviors"]}
    api = behaviours["/api/*"]
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    assert api["ViewerProtocolPolicy"] == "https-only"


def test_static_assets_come_from_the_bucket_with_origin_access_control(
    synthesis: Synthesis, env: str
) -> None:
    config = distribution(synthesis, env)
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    static = behaviours["/static/*"]
    assert static["CachePolicyId"] == CACHING_OPTIMIZED
    (bucket,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert bucket["DomainName"].startswith(f"health-platform-{env}-static-")
    assert "OriginAccessControlId" in bucket
    # The data stack lets this account's distributions read the bucket and its key.
    policies = synthesis.resources(env, DATA, "AWS::S3::BucketPolicy")
    static_policy = next(p for lid, p in policies.items() if lid.startswith("BucketsStaticAssets"))
    assert "AllowCloudFrontOriginAccessControl" in json.dumps(static_policy)
    keys = synthesis.resources(env, DATA, "AWS::KMS::Key")
    assert "AllowCloudFrontToDecryptStaticAssets" in json.dumps(keys)


def test_security_headers_on_every_behaviour(synthesis: Synthesis, env: str) -> None:
    config = distribution(synthesis, env)
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert "ResponseHeadersPolicyId" in behaviour
    (policy,) = synthesis.resources(env, EDGE, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True


def test_waf_managed_rules_and_rate_limit(synthesis: Synthesis, env: str) -> None:
    (acl,) = synthesis.resources(env, EDGE, "AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT"
    rules = {r["Name"]: r for r in props["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(rules)
    rate = rules["RateLimitPerAddress"]["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == synthesis.environments[env].edge.rate_limit_per_5_minutes
    assert "WebACLId" in distribution(synthesis, env)
    (logging,) = synthesis.resources(env, EDGE, "AWS::WAFv2::LoggingConfiguration").values()
    assert "aws-waf-logs-" in json.dumps(logging["Properties"]["LogDestinationConfigs"])


def test_dns_aliases_point_at_cloudfront(synthesis: Synthesis, env: str) -> None:
    records = synthesis.resources(env, EDGE, "AWS::Route53::RecordSet").values()
    kinds = sorted(r["Properties"]["Type"] for r in records)
    assert kinds == ["A", "AAAA"]
    for record in records:
        assert "CdnDistribution" in json.dumps(record["Properties"]["AliasTarget"])
