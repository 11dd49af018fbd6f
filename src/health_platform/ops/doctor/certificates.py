"""The environment's ACM certificates: issued and far from expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from health_platform.checks import Check, Status
from health_platform.infra import naming
from health_platform.ops.doctor.environment import Environment

CERTIFICATE_MIN_DAYS = 30
# ListCertificates returns RSA_2048 certificates only unless asked for other key types.
CERTIFICATE_KEY_TYPES = (
    "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1",
)  # fmt: skip


def check_certificates(e: Environment) -> list[Check]:
    """The environment's certificates: CloudFront's (in its region) and the load
    balancer's (in the environment's), for its domain or a name under it; each ISSUED and
    far from expiry."""
    domain = e.settings.domain.name
    checks = []
    for region in dict.fromkeys((naming.CLOUDFRONT_REGION, e.region)):
        acm = e.client("acm", region)
        arns = [
            summary["CertificateArn"]
            for page in acm.get_paginator("list_certificates").paginate(
                Includes={"keyTypes": list(CERTIFICATE_KEY_TYPES)}
            )
            for summary in page["CertificateSummaryList"]
            if summary.get("DomainName") == domain
            or summary.get("DomainName", "").endswith(f".{domain}")
        ]
        if not arns:
            detail = f"no ACM certificate for {domain} or a name under it"
            checks.append(
                Check("certificate", f"{domain} ({region})", "fail", detail, e.apply_hint)
            )
            continue
        details = [acm.describe_certificate(CertificateArn=arn)["Certificate"] for arn in arns]
        # A replaced certificate lingers unused until deleted; judge those in use, if any.
        used = [d for d in details if d.get("InUseBy")] or details
        checks += [_certificate(e, region, detail) for detail in used]
    return checks


def _certificate(e: Environment, region: str, certificate: dict[str, Any]) -> Check:
    name = f"{certificate['DomainName']} ({region})"
    status = certificate["Status"]
    zone = e.settings.domain.hosted_zone_name
    dns = f"check its DNS validation record (CNAME) in {zone}, then `hp infra apply {e.env}`"
    if status != "ISSUED":
        reason = certificate.get("FailureReason")
        detail = status + (f": {reason}" if reason else "")
        verdict: Status = "warn" if status == "PENDING_VALIDATION" else "fail"
        return Check("certificate", name, verdict, detail, dns)
    expires: datetime = certificate["NotAfter"]
    left = expires - e.now
    detail = f"ISSUED, expires {expires:%Y-%m-%d} ({left.days} days)"
    renewal = certificate.get("RenewalSummary") or {}
    if renewal.get("RenewalStatus") == "FAILED":
        detail += f"; renewal failed: {renewal.get('RenewalStatusReason', 'no reason given')}"
    if left <= timedelta(0):
        return Check("certificate", name, "fail", detail, dns)
    if left < timedelta(days=CERTIFICATE_MIN_DAYS):
        # ACM renews a DNS-validated certificate 60 days ahead; this close, renewal is stuck.
        return Check("certificate", name, "warn", detail, dns)
    return Check("certificate", name, "pass", detail)
