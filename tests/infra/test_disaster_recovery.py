"""Recovery from a regional loss within an hour of data (prod) and the monthly restore test
(every environment with an AWS Backup plan): what each environment's templates hold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from health_platform.infra import naming
from health_platform.infra.data.registry import lifecycle_policy_text
from health_platform.infra.naming import DATA, DISASTER_RECOVERY, OBSERVABILITY
from tests.infra.conftest import Synthesis

# Renaming it would start a second replication before stopping the first (refused by RDS).
REPLICATION_ID = "BackupReplicationBCFE8CF8"


def sdk_calls(synthesis: Synthesis, env: str) -> dict[str, dict[str, Any]]:
    return synthesis.resources(env, DATA, "Custom::AWS")


def call(resource: dict[str, Any], event: str) -> dict[str, Any]:
    """An AwsCustomResource's call, with CloudFormation's references written as `<ref>`."""
    value = resource["Properties"][event]
    if isinstance(value, dict):
        value = "".join(p if isinstance(p, str) else "<ref>" for p in value["Fn::Join"][1])
    return json.loads(value)  # type: ignore[no-any-return]


def the_one(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


# --- RDS automated backups in the DR region ----------------------------------------------------


def test_prod_replicates_database_backups_to_the_dr_region(synthesis: Synthesis) -> None:
    settings = synthesis.environments["prod"]
    calls = sdk_calls(synthesis, "prod")
    assert REPLICATION_ID in calls
    start = call(calls[REPLICATION_ID], "Create")
    assert (start["service"], start["action"]) == (
        "RDS",
        "StartDBInstanceAutomatedBackupsReplication",
    )
    assert start["region"] == settings.dr_region
    params = start["parameters"]
    assert params["BackupRetentionPeriod"] == settings.rds.backup_retention_days
    assert (
        params["SourceDBInstanceArn"]
        == f"arn:<ref>:rds:{settings.region}:{settings.account}:db:<ref>"
    )
    join = calls[REPLICATION_ID]["Properties"]["Create"]["Fn::Join"][1]
    assert {"Ref": "DatabaseInstanceAA8A5FDE"} in join
    # The key: looked up by alias in the DR region (the API takes a key ARN).
    (lookup_ref,) = [p for p in join if isinstance(p, dict) and "Fn::GetAtt" in p]
    lookup_id, attribute = lookup_ref["Fn::GetAtt"]
    assert attribute == "KeyMetadata.Arn"
    lookup = call(calls[lookup_id], "Create")
    assert (lookup["service"], lookup["action"]) == ("KMS", "DescribeKey")
    assert lookup["parameters"] == {"KeyId": naming.dr_key_alias("prod")}
    assert lookup["region"] == settings.dr_region
    stop = call(calls[REPLICATION_ID], "Delete")
    assert stop["action"] == "StopDBInstanceAutomatedBackupsReplication"
    assert stop["region"] == settings.dr_region
    assert "Update" not in calls[REPLICATION_ID]["Properties"]


def test_the_replication_handler_may_do_only_that(synthesis: Synthesis) -> None:
    settings = synthesis.environments["prod"]
    policies = synthesis.resources("prod", DATA, "AWS::IAM::ManagedPolicy")
    (policy,) = [p for lid, p in policies.items() if lid.startswith("BackupReplicationHandler")]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    rds = next(
        s for s in statements if "rds:StartDBInstanceAutomatedBackupsReplication" in s["Action"]
    )
    assert "*" not in json.dumps(rds["Resource"]).replace("auto-backup:*", "")
    kms = next(s for s in statements if "kms:CreateGrant" in s["Action"])
    assert f":kms:{settings.dr_region}:{settings.account}:key/*" in json.dumps(kms["Resource"])
    assert kms["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": naming.dr_key_alias("prod")},
        "Bool": {"kms:GrantIsForAWSResource": "true"},  # a grant for RDS, not to hand on
    }
    function = the_one(synthesis.resources("prod", DATA, "AWS::Lambda::Function"))["Properties"]
    assert "privateSubnet" in json.dumps(function["VpcConfig"]["SubnetIds"])
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "BackupReplicationLogsFF6E770F"}
    log_group = synthesis.resources("prod", DATA, "AWS::Logs::LogGroup")[
        "BackupReplicationLogsFF6E770F"
    ]
    assert "KmsKeyId" in log_group["Properties"]


def test_only_prod_replicates(synthesis: Synthesis) -> None:
    for env in ("dev", "staging"):
        assert not sdk_calls(synthesis, env)
        assert not synthesis.resources(env, DATA, "AWS::ECR::ReplicationConfiguration")
        for secret in synthesis.resources(env, DATA, "AWS::SecretsManager::Secret").values():
            assert "ReplicaRegions" not in secret["Properties"]


# --- images -------------------------------------------------------------------------------------


def test_prod_replicates_its_repositories_to_the_dr_region(synthesis: Synthesis) -> None:
    settings = synthesis.environments["prod"]
    config = the_one(synthesis.resources("prod", DATA, "AWS::ECR::ReplicationConfiguration"))
    (rule,) = config["Properties"]["ReplicationConfiguration"]["Rules"]
    assert rule["Destinations"] == [{"Region": settings.dr_region, "RegistryId": settings.account}]
    assert rule["RepositoryFilters"] == [
        {"Filter": "health-platform/prod/", "FilterType": "PREFIX_MATCH"}
    ]


def test_replicated_repositories_are_made_like_the_sources(synthesis: Synthesis) -> None:
    template = the_one(
        synthesis.resources("prod", DISASTER_RECOVERY, "AWS::ECR::RepositoryCreationTemplate")
    )["Properties"]
    assert template["Prefix"] == "health-platform/prod"
    assert template["AppliedFor"] == ["REPLICATION"]
    assert template["ImageTagMutability"] == "IMMUTABLE"
    assert template["EncryptionConfiguration"] == {
        "EncryptionType": "KMS",
        "KmsKey": {"Fn::GetAtt": ["DisasterRecoveryKey76615674", "Arn"]},
    }
    sources = synthesis.resources("prod", DATA, "AWS::ECR::Repository")
    for source in sources.values():
        assert (
            source["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
            == lifecycle_policy_text()
        )
    assert template["LifecyclePolicy"] == lifecycle_policy_text()
    role_id = template["CustomRoleArn"]["Fn::GetAtt"][0]
    role = synthesis.resources("prod", DISASTER_RECOVERY, "AWS::IAM::Role")[role_id]
    assert "ecr.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])


# --- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["CacheAuthToken", "DatabaseInstanceSecret"])
def test_prod_replicates_the_secrets_tasks_read_under_the_dr_key(
    synthesis: Synthesis, secret: str
) -> None:
    """The Redis token and the database's master secret (the migration's)."""
    settings = synthesis.environments["prod"]
    (found,) = [
        resource
        for logical_id, resource in synthesis.resources(
            "prod", DATA, "AWS::SecretsManager::Secret"
        ).items()
        if secret in logical_id
    ]
    (replica,) = found["Properties"]["ReplicaRegions"]
    assert replica["Region"] == settings.dr_region
    key = "".join(p if isinstance(p, str) else "<ref>" for p in replica["KmsKeyId"]["Fn::Join"][1])
    assert (
        key
        == f"arn:<ref>:kms:{settings.dr_region}:{settings.account}:{naming.dr_key_alias('prod')}"
    )


def test_the_dr_key_takes_rotated_secret_values_through_secrets_manager_only(
    synthesis: Synthesis,
) -> None:
    """A rotation writes the master secret as the rotation function's role, and Secrets
    Manager re-encrypts the replica's copy under the DR key as that role."""
    key = synthesis.raw("prod", DISASTER_RECOVERY)["Resources"]["DisasterRecoveryKey76615674"]
    (statement,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AllowSecretReplicasOfThisAccount"
    ]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"AWS": "*"}
    assert "kms:Decrypt" not in statement["Action"]
    assert statement["Condition"] == {
        "StringEquals": {"kms:CallerAccount": synthesis.environments["prod"].account},
        "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"},
    }


# --- the monthly restore test -------------------------------------------------------------------


def test_every_environment_tests_a_restore_monthly(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    plan = the_one(synthesis.resources(env, DATA, "AWS::Backup::RestoreTestingPlan"))["Properties"]
    assert plan["RestoreTestingPlanName"] == naming.restore_testing_plan_name(env)
    _minute, _hour, day, month, weekday, year = plan["ScheduleExpression"][5:-1].split()
    assert (day, month, weekday, year) == ("1", "*", "?", "*")  # once a month
    selection = plan["RecoveryPointSelection"]
    assert selection["IncludeVaults"] == [{"Fn::GetAtt": ["BackupVaultADF21B19", "BackupVaultArn"]}]
    assert selection["Algorithm"] == "LATEST_WITHIN_WINDOW"
    assert selection["SelectionWindowDays"] <= settings.recovery_point_days


def test_the_restore_test_restores_the_database_into_isolation(
    synthesis: Synthesis, env: str
) -> None:
    selection = the_one(synthesis.resources(env, DATA, "AWS::Backup::RestoreTestingSelection"))[
        "Properties"
    ]
    assert selection["RestoreTestingPlanName"] == {"Ref": "RestoreTestingPlan1C6D5760"}
    assert selection["ProtectedResourceType"] == "RDS"
    assert "DatabaseInstanceAA8A5FDE" in json.dumps(selection["ProtectedResourceArns"])
    assert 0 < selection["ValidationWindowHours"] <= 168
    overrides = selection["RestoreMetadataOverrides"]
    assert overrides["dbSubnetGroupName"] == {"Ref": "DatabaseSubnetGroup7D60F180"}
    parts = overrides["vpcSecurityGroupIds"]["Fn::Join"][1]
    assert (parts[0], parts[-1]) == ('["', '"]')
    group_id = parts[1]["Fn::GetAtt"][0]
    group = synthesis.resources(env, DATA, "AWS::EC2::SecurityGroup")[group_id]["Properties"]
    assert "SecurityGroupIngress" not in group
    ingress = synthesis.resources(env, DATA, "AWS::EC2::SecurityGroupIngress").values()
    assert not [r for r in ingress if group_id in json.dumps(r["Properties"]["GroupId"])]
    role_id = selection["IamRoleArn"]["Fn::GetAtt"][0]
    role = synthesis.resources(env, DATA, "AWS::IAM::Role")[role_id]["Properties"]
    assert "backup.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    assert "AWSBackupServiceRolePolicyForRestores" in json.dumps(role["ManagedPolicyArns"])


def test_a_failed_restore_is_an_alert(synthesis: Synthesis, env: str) -> None:
    rules = synthesis.resources(env, OBSERVABILITY, "AWS::Events::Rule").values()
    (rule,) = [r for r in rules if r["Properties"]["EventPattern"]["source"] == ["aws.backup"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Restore Job State Change"]
    assert "FAILED" in pattern["detail"]["status"]
    (target,) = rule["Properties"]["Targets"]
    assert "AlertsTopic" in json.dumps(target["Arn"])
