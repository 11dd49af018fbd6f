"""Load balancer listeners: the TLS a viewer-facing HTTPS listener negotiates.

An ALB security policy is a fixed list of protocols and suites (no custom ones). Most of
them, the CDK's "recommended" one included, still offer TLS 1.2 suites with CBC and no
AEAD; a listener that names no policy gets ELBSecurityPolicy-2016-08 (TLS 1.0 and up)."""

from __future__ import annotations

from collections.abc import Iterator

from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule

# TLS 1.2 with ECDHE and AES-GCM only, and TLS 1.3 (whose suites are all AEAD): the
# restricted ("Res") policies and the TLS 1.3-only one.
AEAD_ONLY_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
    }
)


def _weak_policies(env: Environment) -> Iterator[tuple[Resource, str]]:
    for listener in env.resources("AWS::ElasticLoadBalancingV2::Listener"):
        if listener.properties.get("Protocol") != "HTTPS":
            continue
        policy = listener.properties.get("SslPolicy", "ELBSecurityPolicy-2016-08 (the default)")
        if policy not in AEAD_ONLY_POLICIES:
            yield (
                listener,
                (
                    f"negotiates with {policy}, which offers suites without forward secrecy or"
                    " authenticated encryption (CBC); use one of "
                    + ", ".join(sorted(AEAD_ONLY_POLICIES))
                ),
            )


LISTENER_TLS_POLICY = Rule(
    "HP-ALB-TLS-POLICY",
    "Every HTTPS listener offers only forward-secret AEAD suites (TLS 1.2 restricted, 1.3)",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html",
    _weak_policies,
)
