"""S3 lifecycle rules: S3 refuses a rule that moves objects to another storage class on or
after the day it expires them ("'Days' in the expiration action must be a non-zero positive
integer greater than that in the transition action"), for current and for noncurrent
versions alike, and a move to Standard-IA or One Zone-IA before 30 days."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule

INFREQUENT_ACCESS = ("STANDARD_IA", "ONEZONE_IA")
INFREQUENT_ACCESS_MIN_DAYS = 30


def _days(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _rule_problems(rule: dict[str, Any]) -> Iterator[str]:
    name = rule.get("Id", "a lifecycle rule")
    noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
    for kind, expiry, transitions in (
        ("current", _days(rule.get("ExpirationInDays")), rule.get("Transitions", [])),
        (
            "noncurrent",
            _days(noncurrent or rule.get("NoncurrentVersionExpirationInDays")),
            rule.get("NoncurrentVersionTransitions", []),
        ),
    ):
        for transition in transitions:
            days = _days(transition.get("TransitionInDays"))
            storage = transition.get("StorageClass")
            if days is None:
                continue
            if expiry is not None and days >= expiry:
                yield (
                    f"{name}: {kind} objects move to {storage} after {days} days but expire"
                    f" after {expiry}: S3 refuses the rule"
                )
            if storage in INFREQUENT_ACCESS and days < INFREQUENT_ACCESS_MIN_DAYS:
                yield f"{name}: {kind} objects move to {storage} after {days} days (S3: 30 or more)"


def _refused_rules(env: Environment) -> Iterator[tuple[Resource, str]]:
    for bucket in env.resources("AWS::S3::Bucket"):
        for rule in bucket.properties.get("LifecycleConfiguration", {}).get("Rules", []):
            for problem in _rule_problems(rule):
                yield bucket, problem


LIFECYCLE_ORDER = Rule(
    "HP-S3-LIFECYCLE-ORDER",
    "A bucket's lifecycle moves objects between storage classes only before it expires them",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html",
    _refused_rules,
)
