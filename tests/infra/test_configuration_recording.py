"""AWS Config (the seed's configuration drift detection): the recorder, its delivery channel
and bucket, our HIPAA conformance pack and its alerts; and an environment that uses the
account's existing security services instead of creating them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match

from health_platform.infra.app import build_app
from health_platform.infra.compliance.check import StackReport, check_app
from health_platform.infra.naming import OBSERVABILITY, config_rule_prefix, stack_name
from health_platform.infra.observability.hipaa_pack import (
    RULES,
    RULES_PER_PACK_MAX,
    TEMPLATE_BODY_MAX_BYTES,
    rules_for,
    template_body,
)
from health_platform.settings import EnvironmentSettings, load_environments
from tests.conftest import EnvironmentFiles
from tests.infra.conftest import Synthesis

# The account-wide services an environment creates unless it says `existing`.
SINGLETONS = (
    "AWS::GuardDuty::Detector",
    "AWS::SecurityHub::Hub",
    "AWS::AccessAnalyzer::Analyzer",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
)
# Managed rules newer than aws-cdk-lib's ManagedRuleIdentifiers; each was read on its own
# page of the AWS Config developer guide.
NEWER_THAN_CDK = {
    "ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST",
    "ELASTICACHE_REPL_GRP_ENCRYPTED_IN_TRANSIT",
    "ELASTICACHE_REPL_GRP_REDIS_AUTH_ENABLED",
    "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT",
    "CLOUDFRONT_S3_ORIGIN_ACCESS_CONTROL_ENABLED",
    "WAFV2_WEBACL_NOT_EMPTY",
}
# Room for the suffix AWS Config may add to a pack's rule names, within their 128.
RULE_NAME_MAX = 100


def one(synthesis: Synthesis, env: str, kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = synthesis.resources(env, OBSERVABILITY, kind).items()
    return found


def pack_body(resources: dict[str, dict[str, Any]]) -> str:
    (pack,) = [r for r in resources.values() if r["Type"] == "AWS::Config::ConformancePack"]
    return str(pack["Properties"]["TemplateBody"])


def test_recorder_then_channel_then_pack(synthesis: Synthesis, env: str) -> None:
    recorder_id, recorder = one(synthesis, env, "AWS::Config::ConfigurationRecorder")
    channel_id, channel = one(synthesis, env, "AWS::Config::DeliveryChannel")
    _, pack = one(synthesis, env, "AWS::Config::ConformancePack")
    assert recorder["Properties"]["RecordingGroup"] == {
        "AllSupported": True,
        "IncludeGlobalResourceTypes": True,  # us-east-1 records IAM's global types
    }
    assert recorder["Properties"]["RecordingMode"] == {"RecordingFrequency": "CONTINUOUS"}
    assert recorder_id in channel["DependsOn"]
    assert {recorder_id, channel_id} <= set(pack["DependsOn"])
    # The channel also waits for the bucket's policy and the role's delivery permissions.
    (bucket_policy,) = [
        lid
        for lid, r in synthesis.resources(env, OBSERVABILITY, "AWS::S3::BucketPolicy").items()
        if lid.startswith("ConfigurationRecordingHistory")
    ]
    assert bucket_policy in channel["DependsOn"]
    assert any(
        lid.startswith("ConfigurationRecordingDeliveryPolicy") for lid in channel["DependsOn"]
    )
    assert channel["Properties"]["ConfigSnapshotDeliveryProperties"] == {
        "DeliveryFrequency": "TwentyFour_Hours"
    }
    assert "ConfigurationRecordingKey" in json.dumps(channel["Properties"]["S3KmsKeyArn"])


def test_the_recorder_role_is_ours_with_aws_config_role(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template(env, OBSERVABILITY)
    account = synthesis.environments[env].account
    trusts_config = Match.object_like(
        {
            "Principal": {"Service": "config.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )
    config_role = Match.string_like_regexp(":iam::aws:policy/service-role/AWS_ConfigRole$")
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {"Statement": [trusts_config]},
            "ManagedPolicyArns": [
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, config_role]]}
            ],
        },
    )
    # Never the service-linked role: creating it fails where it exists already.
    assert not synthesis.resources(env, OBSERVABILITY, "AWS::IAM::ServiceLinkedRole")


def test_aws_config_may_deliver_for_this_account_only(synthesis: Synthesis, env: str) -> None:
    account = synthesis.environments[env].account
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for lid, r in synthesis.resources(env, OBSERVABILITY, "AWS::S3::BucketPolicy").items()
        if lid.startswith("ConfigurationRecordingHistory")
    ]
    by_sid = {s["Sid"]: s for s in policy if "Sid" in s}
    check = by_sid["AWSConfigBucketPermissionsCheck"]
    assert check["Principal"] == {"Service": "config.amazonaws.com"}
    assert sorted(check["Action"]) == ["s3:GetBucketAcl", "s3:ListBucket"]
    assert check["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    delivery = by_sid["AWSConfigBucketDelivery"]
    assert delivery["Principal"] == {"Service": "config.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert json.dumps(delivery["Resource"]).endswith(f'"/AWSLogs/{account}/Config/*"]]}}')
    assert delivery["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": account,
            "s3:x-amz-acl": "bucket-owner-full-control",
        }
    }
    # TLS only, like every bucket of the project.
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in policy)
    key = synthesis.resources(env, OBSERVABILITY, "AWS::KMS::Key")
    (statements,) = [
        r["Properties"]["KeyPolicy"]["Statement"]
        for lid, r in key.items()
        if lid.startswith("ConfigurationRecordingKey")
    ]
    (config_statement,) = [
        s for s in statements if s.get("Sid") == "AllowConfigToEncryptItsDeliveries"
    ]
    assert config_statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert config_statement["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}


def test_the_history_bucket_is_encrypted_logged_and_kept_six_years(
    synthesis: Synthesis, env: str
) -> None:
    (bucket,) = [
        r["Properties"]
        for lid, r in synthesis.resources(env, OBSERVABILITY, "AWS::S3::Bucket").items()
        if lid.startswith("ConfigurationRecordingHistory")
    ]
    account = synthesis.environments[env].account
    assert bucket["BucketName"] == f"health-platform-{env}-config-{account}"
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "AuditTrailAccessLogs" in json.dumps(bucket["LoggingConfiguration"])
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 6 * 365 + 2
    assert "ObjectLockEnabled" not in bucket  # AWS Config cannot deliver to Object Lock


def test_the_pack_holds_the_table_in_a_body_that_fits(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    resources = synthesis.raw(env, OBSERVABILITY)["Resources"]
    body = pack_body(resources)
    assert len(body.encode()) < TEMPLATE_BODY_MAX_BYTES
    assert body == template_body(settings)
    rules = yaml.safe_load(body)["Resources"]
    expected = rules_for(settings.region)
    assert len(rules) == len(expected) <= RULES_PER_PACK_MAX
    identifiers = [r["Properties"]["Source"]["SourceIdentifier"] for r in rules.values()]
    assert sorted(identifiers) == sorted(rule.identifier for rule in expected)
    for rule in rules.values():
        props = rule["Properties"]
        assert rule["Type"] == "AWS::Config::ConfigRule"
        assert props["Source"]["Owner"] == "AWS"
        assert props["Description"].startswith("HIPAA 164.3")
        assert props["ConfigRuleName"].startswith(config_rule_prefix(env))
        assert len(props["ConfigRuleName"]) <= RULE_NAME_MAX
        assert all(isinstance(v, str) for v in props.get("InputParameters", {}).values())


def test_the_pack_carries_the_environment_s_own_values(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    rules = yaml.safe_load(pack_body(synthesis.raw(env, OBSERVABILITY)["Resources"]))["Resources"]

    def parameters(logical_id: str) -> dict[str, str]:
        return rules[logical_id]["Properties"]["InputParameters"]  # type: ignore[no-any-return]

    days = str(settings.rds.backup_retention_days)
    plan = parameters("BackupPlanMinFrequencyAndMinRetentionCheck")
    # AWS Backup keeps its points over the gap between office days (dev: a weekend).
    assert plan["requiredRetentionDays"] == str(settings.recovery_point_days)
    assert plan["requiredFrequencyValue"] == str(settings.backup_frequency_days)
    assert parameters("DbInstanceBackupEnabled")["backupRetentionMinimum"] == days
    snapshots = str(settings.elasticache.snapshot_retention_days)
    assert parameters("ElasticacheRedisClusterAutomaticBackupCheck") == {
        "snapshotRetentionPeriod": snapshots
    }
    shortest = min(
        settings.ecs.log_retention_days,
        settings.rds.log_retention_days,
        settings.network.flow_log_retention_days,
    )
    assert int(parameters("CwLoggroupRetentionPeriodCheck")["MinRetentionTime"]) <= shortest
    uploads = f"health-platform-{env}-uploads-{settings.account}"
    assert parameters("CloudtrailS3DataeventsEnabled") == {"S3BucketNames": uploads}
    ports = set(parameters("RestrictedIncomingTraffic").values())
    assert {"5432", "6379", "3389"} <= ports


def test_non_compliant_results_of_the_pack_reach_the_topic(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template(env, OBSERVABILITY)
    (topic,) = synthesis.resources(env, OBSERVABILITY, "AWS::SNS::Topic")
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.config"],
                "detail-type": ["Config Rules Compliance Change"],
                "detail": {
                    "configRuleName": [{"prefix": f"health-platform-{env}-hipaa-"}],
                    "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
                },
            },
            "Targets": [Match.object_like({"Arn": {"Ref": topic}})],
        },
    )


def test_the_rule_table() -> None:
    from aws_cdk import aws_config as config

    identifiers = [rule.identifier for rule in RULES]
    assert len(set(identifiers)) == len(identifiers)
    assert len({rule.logical_id for rule in RULES}) == len(RULES)
    cdk_known = {
        getattr(config.ManagedRuleIdentifiers, name)
        for name in dir(config.ManagedRuleIdentifiers)
        if name.isupper()
    }
    assert set(identifiers) - cdk_known == NEWER_THAN_CDK  # a misspelt identifier fails here
    # Fargate's tasks: the EC2-only rule would evaluate none of them.
    assert "ECS_TASK_DEFINITION_NONROOT_USER" not in identifiers
    assert "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT" in identifiers


def test_a_pack_outside_us_east_1_leaves_cloudfront_out() -> None:
    (dev,) = load_environments(["dev"])
    elsewhere = dev.model_copy(update={"region": "eu-west-1"})
    body = template_body(elsewhere)
    identifiers = {
        r["Properties"]["Source"]["SourceIdentifier"]
        for r in yaml.safe_load(body)["Resources"].values()
    }
    assert identifiers and not {i for i in identifiers if i.startswith(("CLOUDFRONT", "WAFV2"))}
    assert len(identifiers) == len(rules_for("eu-west-1")) < len(rules_for("us-east-1"))
    assert len(body.encode()) < len(template_body(dev).encode()) < TEMPLATE_BODY_MAX_BYTES


# --- two environments in one account and region ---------------------------------------------


@pytest.fixture(scope="module")
def shared_account(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, EnvironmentSettings], dict[str, StackReport], Path]:
    """dev and staging in dev's account and region, staging with `existing`, synthesized and
    checked as `hp infra check` does."""
    files = EnvironmentFiles(tmp_path_factory.mktemp("shared") / "environments")
    files.edit("staging", "account", "111111111111")
    files.edit("staging", "security_services", "existing")
    environments = load_environments(["dev", "staging"], directory=files.directory)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, built = build_app(environments, outdir)
    reports = {report.stack: report for report in check_app(app, built, outdir)}
    return {env.name: env for env in environments}, reports, outdir


def test_existing_services_are_used_not_created(
    shared_account: tuple[dict[str, EnvironmentSettings], dict[str, StackReport], Path],
) -> None:
    environments, reports, outdir = shared_account
    assert not environments["staging"].creates_security_services
    assert all(report.findings == [] for report in reports.values())

    def resources(env: str) -> dict[str, dict[str, Any]]:
        path = outdir / f"{stack_name(env, OBSERVABILITY)}.template.json"
        return json.loads(path.read_text())["Resources"]  # type: ignore[no-any-return]

    def types(env: str) -> list[str]:
        return [r["Type"] for r in resources(env).values()]

    for kind in SINGLETONS:
        assert types("dev").count(kind) == 1, kind
        assert kind not in types("staging"), kind
    # Nothing that only the recorder's delivery needs.
    assert not [
        lid for lid in resources("staging") if lid.startswith("ConfigurationRecordingHistory")
    ]
    # What stays: the pack, with no recorder to wait on, and every rule to the topic.
    (pack,) = [
        r for r in resources("staging").values() if r["Type"] == "AWS::Config::ConformancePack"
    ]
    assert "DependsOn" not in pack
    assert pack["Properties"]["ConformancePackName"] == "health-platform-staging-hipaa"
    sources = sorted(
        r["Properties"]["EventPattern"]["source"][0]
        for r in resources("staging").values()
        if r["Type"] == "AWS::Events::Rule"
    )
    assert {"aws.guardduty", "aws.securityhub", "aws.access-analyzer", "aws.config"} <= set(sources)
