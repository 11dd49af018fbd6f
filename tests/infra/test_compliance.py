"""The offline gate: zero findings for every stack, acknowledgements that are all used and
narrow, and a known-bad resource that is still caught."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from health_platform.infra.app import build_app
from health_platform.infra.compliance.acknowledgements import ACKNOWLEDGEMENTS
from health_platform.infra.compliance.check import check_app
from health_platform.infra.naming import DATA, NETWORK
from health_platform.settings import load_environment
from tests.infra.conftest import Synthesis

EXPECTED_STACKS = {
    f"health-platform-{env}-{part}"
    for env in ("dev", "staging", "prod")
    for part in ("network", "data", "services", "edge", "observability")
} | {"health-platform-prod-dr"}


def test_every_stack_passes_with_zero_findings(synthesis: Synthesis) -> None:
    assert set(synthesis.reports) == EXPECTED_STACKS
    for report in synthesis.reports.values():
        assert report.findings == [], report.stack
        assert report.resources > 0


def test_every_acknowledgement_is_used_somewhere(synthesis: Synthesis) -> None:
    used = {
        entry.split(" at ")[0]
        for report in synthesis.reports.values()
        for entry in report.acknowledged
    }
    for ack in ACKNOWLEDGEMENTS:
        assert ack.rule in used, f"{ack.rule} at {ack.path} matches nothing: remove it"
        assert len(ack.reason.split()) >= 8, f"{ack.rule}: give a real reason"


def test_non_compliant_resources_are_still_caught(tmp_path: Path) -> None:
    """Acknowledgements must not hide everything (aws-cdk #38495: acknowledge is app-wide):
    add resources that break rules acknowledged elsewhere in the same stacks."""
    app, built = build_app([load_environment("dev")], tmp_path)
    data, network = built[0].stacks[DATA], built[0].stacks[NETWORK]
    # Unencrypted, unversioned, unlogged, not replicated, reachable over plain HTTP.
    s3.Bucket(data, "Rogue")
    open_to_the_world = ec2.SecurityGroup(network, "Rogue", vpc=network.vpc)  # type: ignore[attr-defined]
    # SSH from anywhere.
    open_to_the_world.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))

    reports = {r.stack: r for r in check_app(app, built, tmp_path)}
    data_rules = {
        f.rule for f in reports[data.stack_name].findings if f.location.startswith("Rogue")
    }
    assert {
        "HIPAA.Security-S3BucketLoggingEnabled",
        "HIPAA.Security-S3BucketVersioningEnabled",
        "HIPAA.Security-S3BucketSSLRequestsOnly",
        "HIPAA.Security-S3DefaultEncryptionKMS",  # acknowledged for two other buckets here
        "HIPAA.Security-S3BucketReplicationEnabled",  # acknowledged for three others here
    } <= data_rules
    network_rules = {
        f.rule for f in reports[network.stack_name].findings if f.location.startswith("Rogue")
    }
    assert "HIPAA.Security-EC2RestrictedSSH" in network_rules
    # Nothing but the rogue resources fails.
    assert all(f.location.startswith("Rogue") for r in reports.values() for f in r.findings)
