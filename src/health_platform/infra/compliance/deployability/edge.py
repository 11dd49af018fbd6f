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
from health_platform.infra.edge.waf_rules import BODY_RULES


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


def _listener_certificates(env: Environment) -> Iterator[Resource]:
    """The certificates load balancer listeners serve: what an origin presents (the
    distribution's own viewer certificate does not count)."""
    for listener in env.resources(
        "AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerCertificate"
    ):
        for attached in listener.properties.get("Certificates", []):
            for pointer in env.pointers_in(listener.stack, attached.get("CertificateArn")):
                if pointer.resource.type == "AWS::CertificateManager::Certificate":
                    yield pointer.resource


def _certificate_names(env: Environment) -> list[str]:
    names: list[str] = []
    for certificate in _listener_certificates(env):
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
            policy = behavior.get("CachePolicyId")
            if isinstance(policy, str) and policy not in MANAGED_CACHE_POLICIES:
                yield (
                    distribution,
                    (
                        f"managed cache policy {policy} is not one this pack knows; add what its"
                        " cache key holds to MANAGED_CACHE_POLICIES"
                    ),
                )
                continue
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


def _label_keys(statement: Any) -> set[str]:
    """The labels a statement matches on, however nested."""
    if isinstance(statement, dict):
        found = set()
        label = statement.get("LabelMatchStatement")
        if isinstance(label, dict) and isinstance(label.get("Key"), str):
            found.add(label["Key"])
        for value in statement.values():
            found |= _label_keys(value)
        return found
    if isinstance(statement, list):
        return set().union(*(_label_keys(item) for item in statement))
    return set()


def _spares(statement: dict[str, Any], method: str, path: str) -> bool:
    """Whether an AND statement excludes the route: a NOT that matches its method and path."""
    for part in statement.get("AndStatement", {}).get("Statements", []):
        excluded = json.dumps(part.get("NotStatement", {}))
        if f'"{method}"' in excluded and f'"{path}"' in excluded:
            return True
    return False


def _enforces(rule: dict[str, Any], label: str) -> bool:
    """Whether `rule` blocks requests with `label` outside every large-body route."""
    statement = rule.get("Statement", {})
    return (
        "Block" in rule.get("Action", {})
        and label in _label_keys(statement)
        and all(_spares(statement, method, path) for method, path in LARGE_BODY_ROUTES)
    )


def _counted(group: dict[str, Any], rule: str) -> bool:
    return any(
        override.get("Name") == rule and "Count" in override.get("ActionToUse", {})
        for override in group.get("RuleActionOverrides", [])
    ) or any(excluded.get("Name") == rule for excluded in group.get("ExcludedRules", []))


def _waf_body_rules(env: Environment) -> Iterator[tuple[Resource, str]]:
    routes = ", ".join(f"{method} {path}" for method, path in LARGE_BODY_ROUTES)
    for acl in env.resources("AWS::WAFv2::WebACL"):
        rules = sorted(acl.properties.get("Rules", []), key=lambda rule: rule.get("Priority", 0))
        for index, rule in enumerate(rules):
            group = rule.get("Statement", {}).get("ManagedRuleGroupStatement", {})
            for body_rule, label in BODY_RULES.get(group.get("Name"), {}).items():
                if not _counted(group, body_rule):
                    yield (
                        acl,
                        (
                            f"{group['Name']}'s {body_rule} reads request bodies and blocks"
                            " what it finds (over 8 KB, or binary bytes that look like an"
                            f" attack): {routes} is refused at the edge. Count it, then block"
                            " its label on every other route"
                        ),
                    )
                elif not any(_enforces(later, label) for later in rules[index + 1 :]):
                    yield (
                        acl,
                        (
                            f"{body_rule} only counts and no later rule blocks its label outside"
                            f" {routes}: what it catches now reaches every route"
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
WAF_BODY_RULES = Rule(
    "HP-WAF-BODY-RULES",
    "The WAF's body-reading rules let the large-body routes through, and only them",
    "https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html",
    _waf_body_rules,
)
