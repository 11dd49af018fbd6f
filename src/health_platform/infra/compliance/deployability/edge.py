"""CloudFront and WAF: what the edge does to requests that the templates cannot show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from health_platform.contract import LARGE_BODY_ROUTES
from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
)


@dataclass(frozen=True)
class CacheKey:
    caches: bool  # MaxTTL above 0
    cookies: bool  # any cookie in the key
    headers: frozenset[str]  # lower case


# AWS's managed cache policies, by id: what each puts in the cache key (and so forwards).
MANAGED_CACHE_POLICIES = {
    # UseOriginCacheControlHeaders and its -QueryStrings twin: Host and every cookie.
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": CacheKey(True, True, frozenset({"host", "origin"})),
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": CacheKey(True, True, frozenset({"host", "origin"})),
    # CachingOptimized, CachingOptimizedForUncompressedObjects: the path alone.
    "658327ea-f89d-4fab-a63d-7e88639e58f6": CacheKey(True, False, frozenset()),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": CacheKey(True, False, frozenset()),
    # CachingDisabled.
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": CacheKey(False, False, frozenset()),
}
# AWS's managed origin request policies that forward the viewer's Host: AllViewer and
# AllViewerAndCloudFrontHeaders-2022-06 (AllViewerExceptHostHeader does not).
HOST_FORWARDING_ORIGIN_POLICIES = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3",
    "33f36d7e-f396-46d9-90e0-52428a34d9dc",
}


def _cache_key(env: Environment, stack: str, behavior: dict[str, Any]) -> CacheKey | None:
    policy = behavior.get("CachePolicyId")
    if isinstance(policy, str):
        return MANAGED_CACHE_POLICIES.get(policy)
    pointer = env.follow(stack, policy)
    if pointer is not None and pointer.resource.type == "AWS::CloudFront::CachePolicy":
        config = pointer.resource.properties["CachePolicyConfig"]
        key = config.get("ParametersInCacheKeyAndForwardedToOrigin", {})
        cookies = key.get("CookiesConfig", {}).get("CookieBehavior", "none")
        headers = key.get("HeadersConfig", {}).get("Headers", [])
        return CacheKey(
            caches=int(config.get("MaxTTL", 0)) > 0,
            cookies=cookies != "none",
            headers=frozenset(str(h).lower() for h in headers),
        )
    forwarded = behavior.get("ForwardedValues")  # the legacy form
    if forwarded is not None:
        cookies = forwarded.get("Cookies", {}).get("Forward", "none")
        headers = forwarded.get("Headers", [])
        return CacheKey(
            caches=int(behavior.get("MaxTTL", 31536000)) > 0,
            cookies=cookies != "none",
            headers=frozenset(str(h).lower() for h in headers),
        )
    return None


def _forwards_host(env: Environment, stack: str, behavior: dict[str, Any]) -> bool:
    key = _cache_key(env, stack, behavior)
    if key is not None and ("host" in key.headers or "*" in key.headers):
        return True
    policy = behavior.get("OriginRequestPolicyId")
    if isinstance(policy, str):
        return policy in HOST_FORWARDING_ORIGIN_POLICIES
    pointer = env.follow(stack, policy)
    if pointer is not None and pointer.resource.type == "AWS::CloudFront::OriginRequestPolicy":
        config = pointer.resource.properties["OriginRequestPolicyConfig"]["HeadersConfig"]
        behaviour = config.get("HeaderBehavior", "none")
        named = {str(h).lower() for h in config.get("Headers", [])}
        return behaviour.startswith("allViewer") or (behaviour == "whitelist" and "host" in named)
    return False


def _behaviors(distribution: Resource) -> list[dict[str, Any]]:
    config = distribution.properties["DistributionConfig"]
    return [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]


def _certificate_names(env: Environment) -> list[str]:
    names: list[str] = []
    for certificate in env.resources("AWS::CertificateManager::Certificate"):
        names += [
            name
            for name in (
                certificate.properties.get("DomainName"),
                *certificate.properties.get("SubjectAlternativeNames", []),
            )
            if isinstance(name, str)
        ]
    return names


def _covers(certificate_name: str, host: str) -> bool:
    if certificate_name.startswith("*."):
        return fnmatchcase(host, certificate_name) and host.count(".") == certificate_name.count(
            "."
        )
    return certificate_name == host


def _origin_certificates(env: Environment) -> Iterator[tuple[Resource, str]]:
    certificates = _certificate_names(env)
    for distribution in env.resources("AWS::CloudFront::Distribution"):
        config = distribution.properties["DistributionConfig"]
        aliases = [a for a in config.get("Aliases", []) if isinstance(a, str)]
        for origin in config.get("Origins", []):
            custom = origin.get("CustomOriginConfig")
            domain = literal(origin.get("DomainName"))
            if (
                custom is None
                or domain is None
                or custom.get("OriginProtocolPolicy") == "http-only"
            ):
                continue
            names = {domain}
            if any(
                behavior.get("TargetOriginId") == origin.get("Id")
                and _forwards_host(env, distribution.stack, behavior)
                for behavior in _behaviors(distribution)
            ):
                names |= set(aliases)
            if not any(_covers(c, n) for c in certificates for n in names):
                yield (
                    distribution,
                    (
                        f"origin {domain} is reached over HTTPS, but no certificate in this"
                        " environment matches a name CloudFront checks"
                        f" ({', '.join(sorted(names))}): every request would be a 502"
                    ),
                )


def _shared_cache_keys(env: Environment) -> Iterator[tuple[Resource, str]]:
    for distribution in env.resources("AWS::CloudFront::Distribution"):
        for behavior in _behaviors(distribution):
            key = _cache_key(env, distribution.stack, behavior)
            if key is not None and key.caches and key.cookies:
                path = behavior.get("PathPattern", "the default behaviour")
                yield (
                    distribution,
                    (
                        f"{path} is cached with cookies in its cache key: every signed-in user"
                        " gets a copy of every response of their own (and the cookies reach the"
                        " origin); key shared responses on what changes them, and never cache"
                        " per-user ones at the edge"
                    ),
                )


def _logging(env: Environment) -> Iterator[tuple[Resource, str]]:
    for distribution in env.resources("AWS::CloudFront::Distribution"):
        logging = distribution.properties["DistributionConfig"].get("Logging")
        if not logging or not logging.get("Bucket"):
            yield distribution, "has no standard logging: its access logs are not kept"


COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"


def _mentions(statement: Any, text: str) -> bool:
    return text in json.dumps(statement)


def _waf_body_size(env: Environment) -> Iterator[tuple[Resource, str]]:
    routes = ", ".join(f"{method} {path}" for method, path in LARGE_BODY_ROUTES)
    for acl in env.resources("AWS::WAFv2::WebACL"):
        rules = sorted(acl.properties.get("Rules", []), key=lambda rule: rule.get("Priority", 0))
        for index, rule in enumerate(rules):
            group = rule.get("Statement", {}).get("ManagedRuleGroupStatement", {})
            if group.get("Name") != COMMON_RULE_SET:
                continue
            counted = any(
                override.get("Name") == BODY_SIZE_RULE
                and "Count" in override.get("ActionToUse", {})
                for override in group.get("RuleActionOverrides", [])
            ) or any(
                excluded.get("Name") == BODY_SIZE_RULE
                for excluded in group.get("ExcludedRules", [])
            )
            if not counted:
                yield (
                    acl,
                    (
                        f"{COMMON_RULE_SET} blocks every body over 8 KB ({BODY_SIZE_RULE}), so"
                        f" {routes} is refused at the edge; override {BODY_SIZE_RULE} to Count and"
                        " block its label everywhere else"
                    ),
                )
                continue
            limits = [later for later in rules[index + 1 :] if _mentions(later, BODY_SIZE_LABEL)]
            if not limits:
                yield (
                    acl,
                    (
                        f"{BODY_SIZE_RULE} only counts and no later rule blocks its label: bodies"
                        " of any size reach every route"
                    ),
                )
            for later in limits:
                for _, path in LARGE_BODY_ROUTES:
                    if not _mentions(later.get("Statement", {}).get("AndStatement", {}), path):
                        yield (
                            acl,
                            (
                                f"rule {later.get('Name')} blocks large bodies without an exception"
                                f" for {path}"
                            ),
                        )


CLOUDFRONT_ORIGIN_CERTIFICATE = Rule(
    "HP-CF-ORIGIN-CERTIFICATE",
    "An HTTPS origin has a certificate for a name CloudFront checks",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-502-bad-gateway.html",
    _origin_certificates,
)
CLOUDFRONT_SHARED_CACHE_KEY = Rule(
    "HP-CF-CACHE-KEY",
    "No cached behaviour keys its responses on cookies",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html",
    _shared_cache_keys,
)
CLOUDFRONT_LOGGING = Rule(
    "HP-CF-LOGGING",
    "Every distribution keeps standard access logs",
    "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html",
    _logging,
)
WAF_BODY_SIZE = Rule(
    "HP-WAF-BODY-SIZE",
    "The WAF's body-size limit lets the large-body routes through, and only them",
    "https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html",
    _waf_body_size,
)
