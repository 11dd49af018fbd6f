"""`hp compliance`: the mapping of safeguards to template evidence, on small templates."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from health_platform.cli import main
from health_platform.compliance_report import Report, build_report, write_report
from health_platform.compliance_report.evidence import lookup, show, wildcard_actions
from health_platform.errors import ExitCode
from health_platform.infra.compliance.check import Finding, StackReport

KEY = {"Fn::GetAtt": ["DataKey", "Arn"]}
DATA: dict[str, Any] = {
    "Resources": {
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "StorageEncrypted": True,
                "KmsKeyId": KEY,
                "PubliclyAccessible": False,
                "EnableIAMDatabaseAuthentication": True,
                "BackupRetentionPeriod": 7,
                "EnableCloudwatchLogsExports": ["postgresql"],
            },
        },
        "Uploads": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                    ]
                },
                "PublicAccessBlockConfiguration": dict.fromkeys(
                    ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls"), True
                ),
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        },
        "UploadsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Action": "s3:*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                }
            },
        },
        "TaskRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}
                    ]
                }
            },
        },
        "TaskPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
                }
            },
        },
        "Trail": {
            "Type": "AWS::CloudTrail::Trail",
            "Properties": {"IsMultiRegionTrail": True, "EnableLogFileValidation": True},
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            },
        },
    }
}
TEMPLATES = {"hp-dev-data": DATA}


def _items(report: Report, control: str) -> list[tuple[str, str, bool]]:
    return [
        (item.logical_id, item.value, item.found)
        for result in report.safeguards
        for item in result.items
        if item.control == control
    ]


def _section(report: Report, prefix: str) -> Any:
    return next(r for r in report.safeguards if r.section.title.startswith(prefix))


def test_every_safeguard_cites_evidence_from_the_templates() -> None:
    report = build_report("dev", TEMPLATES)
    assert [r.section.title[:10] for r in report.safeguards] == [
        f"164.312({letter})" for letter in "abcde"
    ]
    assert all(r.found for r in report.safeguards), report.gaps
    assert _items(report, "Database storage encrypted") == [("Database", "true", True)]
    assert _items(report, "Database encrypted with a customer-managed KMS key") == [
        ("Database", "GetAtt DataKey.Arn", True)
    ]
    assert _items(report, "Bucket policy refuses requests without TLS") == [
        ("UploadsPolicy", "Deny when aws:SecureTransport is false", True)
    ]


def test_a_missing_encryption_property_is_missing() -> None:
    templates = copy.deepcopy(TEMPLATES)
    del templates["hp-dev-data"]["Resources"]["Database"]["Properties"]["StorageEncrypted"]
    report = build_report("dev", templates)
    assert _items(report, "Database storage encrypted") == [("Database", "(not set)", False)]
    assert _section(report, "164.312(a)").missing >= 1


def test_wrong_values_and_absent_resources_are_missing() -> None:
    report = build_report("dev", TEMPLATES)
    # Three of the four public access blocks: not enough.
    assert _items(report, "Bucket blocks every kind of public access")[0][2] is False
    assert _items(report, "IAM policies grant no wildcard action") == [
        ("TaskPolicy", "wildcard actions: s3:*", False)
    ]
    # No cache in these templates: one MISSING item that says so.
    [(logical_id, value, found)] = _items(report, "Cache encrypted in transit")
    assert (logical_id, found) == ("", False)
    assert value == "no AWS::ElastiCache::ReplicationGroup in any template"


def test_a_safeguard_without_evidence_is_a_gap() -> None:
    templates = copy.deepcopy(TEMPLATES)
    templates["hp-dev-data"]["Resources"]["Listener"]["Properties"]["Protocol"] = "HTTP"
    templates["hp-dev-data"]["Resources"]["Listener"]["Properties"].pop("SslPolicy")
    templates["hp-dev-data"]["Resources"]["UploadsPolicy"]["Properties"]["PolicyDocument"] = {
        "Statement": []
    }
    report = build_report("dev", templates)
    assert report.gaps == ["164.312(e) Transmission security"]
    assert not _section(report, "164.312(e)").evidenced


def test_both_files_carry_the_evidence_the_checks_and_the_customer_duties(tmp_path: Path) -> None:
    check = StackReport("hp-dev-data", "us-east-1", resources=7)
    check.acknowledged = ["S3DefaultEncryptionKMS at Buckets/AlbLogs/Resource"]
    check.reasons = {check.acknowledged[0]: "ALB access logs support only SSE-S3 | <AES>."}
    check.findings = [Finding("cdk-nag", "HIPAA.Security-RDSInBackupPlan", "Db", "no plan")]
    markdown, html = write_report(build_report("dev", TEMPLATES, [check]), tmp_path / "out")
    text = markdown.read_text()
    row = "| found | Database storage encrypted | hp-dev-data | Database (AWS::RDS::DBInstance)"
    assert row in text
    assert "| S3DefaultEncryptionKMS | Buckets/AlbLogs/Resource |" in text
    assert "only SSE-S3 \\| <AES>." in text  # a pipe in a cell does not break the table
    assert "HIPAA.Security-RDSInBackupPlan" in text
    assert "## What the customer must do themselves" in text
    assert "Business Associate Addendum" in text
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;AES&gt;" in page and "<AES>" not in page
    assert '<td class="MISSING">MISSING</td>' in page


def test_lookup_and_show() -> None:
    props = {"A": {"B": [{"C": 1}, {"C": 2}]}, "rds.force_ssl": "1"}
    assert lookup(props, "A/B/*/C") == [1, 2]
    assert lookup(props, "A/X") is None
    assert lookup(props, "rds.force_ssl") == "1"
    assert show({"Ref": "Key"}) == "Ref Key"
    assert show(None) == "(not set)"
    assert len(show("x" * 500)) == 160
    assert wildcard_actions([{"PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "*"}}}])


def test_the_command_exits_1_when_a_safeguard_has_no_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import health_platform.compliance_report as library
    import health_platform.infra.toolchain as toolchain

    empty = build_report("dev", {"hp-dev-data": {"Resources": {}}})
    monkeypatch.setattr(toolchain, "prepare_cdk_runtime", lambda: None)
    monkeypatch.setattr(library, "report_environment", lambda settings, outdir: empty)
    assert main(["compliance", "dev", "--output", str(tmp_path)]) == ExitCode.FINDINGS
    assert (tmp_path / "compliance-dev.md").exists() and (tmp_path / "compliance-dev.html").exists()
    assert "error: No evidence in the templates for: 164.312(a) Access control" in (
        capsys.readouterr().err
    )

    full = build_report("dev", TEMPLATES)
    monkeypatch.setattr(library, "report_environment", lambda settings, outdir: full)
    assert main(["compliance", "dev", "--output", str(tmp_path)]) == ExitCode.OK


def test_an_output_that_is_a_file_is_refused_before_synthesis(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    assert main(["compliance", "dev", "--output", str(target)]) == ExitCode.INVALID_INPUT
