"""The data stack: database, cache, buckets, backups and keys, per environment."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from health_platform.infra.data import retention
from health_platform.infra.naming import DATA, DISASTER_RECOVERY
from tests.infra.conftest import Synthesis

KMS_BUCKETS = ("Uploads", "StaticAssets", "Backups")
SSE_S3_BUCKETS = ("AlbLogs", "AccessLogs")


def the_one(resources: dict[str, dict], prefix: str) -> dict:
    found = [r for logical_id, r in resources.items() if logical_id.startswith(prefix)]
    assert len(found) == 1, f"{prefix}: {len(found)} found"
    return found[0]


def the_one_item(resources: dict[str, dict]) -> tuple[str, dict]:
    assert len(resources) == 1, f"{len(resources)} found"
    ((logical_id, resource),) = resources.items()
    return logical_id, resource


# --- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_primary(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env].rds
    instances = synthesis.resources(env, DATA, "AWS::RDS::DBInstance")
    primary = the_one(instances, "DatabaseInstance")
    props = primary["Properties"]
    assert props["Engine"] == "postgres"
    assert props["EngineVersion"].startswith("15.") and props["EngineVersion"] != "15.4"
    assert props["DBInstanceClass"] == settings.instance_class
    assert props["MultiAZ"] is True
    assert props["StorageEncrypted"] is True
    assert "DataKey" in json.dumps(props["KmsKeyId"])
    assert props["BackupRetentionPeriod"] == settings.backup_retention_days
    assert props["DeletionProtection"] is settings.deletion_protection
    # Not RDS-managed (no read replica of such a source): a generated secret of the stack's.
    assert "ManageMasterUserPassword" not in props
    assert props["MasterUsername"] == "hp_admin"  # a literal: a new secret replaces nothing
    password = json.dumps(props["MasterUserPassword"])
    assert "{{resolve:secretsmanager:" in password and "DatabaseInstanceSecret" in password
    assert props["PubliclyAccessible"] is False
    assert props["AutoMinorVersionUpgrade"] is True
    assert sorted(props["EnableCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert props["MonitoringInterval"] == 60
    assert props["EnablePerformanceInsights"] is True
    assert props["StorageType"] == "gp3"
    assert int(props["MaxAllocatedStorage"]) > int(props["AllocatedStorage"])
    assert primary["DeletionPolicy"] == "Retain"


def test_the_master_secret_is_generated_encrypted_kept_and_rotated(
    synthesis: Synthesis, env: str
) -> None:
    secrets = synthesis.resources(env, DATA, "AWS::SecretsManager::Secret")
    secret_id, secret = next((k, v) for k, v in secrets.items() if "DatabaseInstanceSecret" in k)
    generated = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"username": "hp_admin"}
    assert generated["PasswordLength"] >= 30
    assert "DataKey" in json.dumps(secret["Properties"]["KmsKeyId"])
    assert secret["DeletionPolicy"] == "Retain"
    (attachment_id, attachment) = the_one_item(
        synthesis.resources(env, DATA, "AWS::SecretsManager::SecretTargetAttachment")
    )
    assert attachment["Properties"]["SecretId"] == {"Ref": secret_id}
    assert attachment["Properties"]["TargetId"]["Ref"].startswith("DatabaseInstance")
    (_, schedule) = the_one_item(
        synthesis.resources(env, DATA, "AWS::SecretsManager::RotationSchedule")
    )
    assert schedule["Properties"]["SecretId"] == {"Ref": attachment_id}
    # Weekly: every 7 days, or on the first office day where the database sleeps at night
    # (tests/infra/test_office_hours.py).
    rules = schedule["Properties"]["RotationRules"]
    assert rules["ScheduleExpression"] == (
        "rate(7 days)"
        if synthesis.environments[env].office_hours is None
        else "cron(0 17 ? * MON *)"
    )
    application_id = schedule["Properties"]["RotationLambdaARN"]["Fn::GetAtt"][0]
    application = synthesis.raw(env, DATA)["Resources"][application_id]
    assert application["Type"] == "AWS::Serverless::Application"
    assert "PostgreSQLRotationSingleUser" in json.dumps(synthesis.raw(env, DATA)["Mappings"])
    parameters = application["Properties"]["Parameters"]
    # In the private subnets (the database subnets' ACL lets nothing reach the endpoints).
    assert "privateSubnet" in json.dumps(parameters["vpcSubnetIds"])
    assert "databaseSubnet" not in json.dumps(parameters["vpcSubnetIds"])
    assert "DataKey" in json.dumps(parameters["kmsKeyArn"])
    # Its log group exists first: encrypted, kept for the environment's retention.
    (group_id,) = application["DependsOn"]
    group = synthesis.raw(env, DATA)["Resources"][group_id]["Properties"]
    assert group["LogGroupName"] == f"/aws/lambda/{parameters['functionName']}"
    assert group["RetentionInDays"] == synthesis.environments[env].rds.log_retention_days
    assert "KmsKeyId" in group


def test_the_rotation_reaches_secrets_manager_and_postgres_only(
    synthesis: Synthesis, env: str
) -> None:
    groups = synthesis.resources(env, DATA, "AWS::EC2::SecurityGroup")
    (rotation_id, rotation) = the_one_item(
        {k: v for k, v in groups.items() if k.startswith("DatabaseRotationSecurityGroup")}
    )
    network = synthesis.environments[env].network
    # Secrets Manager at its VPC endpoint, or (dev, without endpoints) through the NAT.
    cidr, description = (
        (str(network.vpc_cidr), "Secrets Manager via its VPC endpoint")
        if network.interface_endpoints
        else ("0.0.0.0/0", "Secrets Manager through the NAT gateway")
    )
    assert rotation["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": cidr,
            "Description": description,
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    egress = [
        r["Properties"]
        for r in synthesis.resources(env, DATA, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [rotation_id, "GroupId"]}
    ]
    assert [(r["FromPort"], r["ToPort"]) for r in egress] == [(5432, 5432)]
    assert egress[0]["DestinationSecurityGroupId"]["Fn::GetAtt"][0].startswith(
        "DatabaseSecurityGroup"
    )


def test_postgres_forces_tls_and_logs_slow_statements(synthesis: Synthesis, env: str) -> None:
    synthesis.template(env, DATA).has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {
            "Family": "postgres15",
            "Parameters": Match.object_like(
                {"rds.force_ssl": "1", "log_min_duration_statement": "1000"}
            ),
        },
    )


def test_postgres_logs_no_values_from_error_details(synthesis: Synthesis, env: str) -> None:
    # A unique violation's DETAIL line holds the key's value: a patient's email.
    synthesis.template(env, DATA).has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {"Parameters": Match.object_like({"log_error_verbosity": "terse"})},
    )


def test_read_replica_only_in_prod(synthesis: Synthesis, env: str) -> None:
    instances = synthesis.resources(env, DATA, "AWS::RDS::DBInstance")
    replicas = [r for r in instances.values() if "SourceDBInstanceIdentifier" in r["Properties"]]
    assert len(replicas) == (1 if env == "prod" else 0)
    for replica in replicas:
        assert replica["Properties"]["DBInstanceClass"] == "db.r6g.large"


def test_postgres_admits_only_the_client_group(synthesis: Synthesis, env: str) -> None:
    ingress = synthesis.resources(env, DATA, "AWS::EC2::SecurityGroupIngress")
    rules = [r["Properties"] for r in ingress.values()]
    assert {(r["FromPort"], r["ToPort"]) for r in rules} == {(5432, 5432), (6379, 6379)}
    sources = set()
    for rule in rules:
        assert "CidrIp" not in rule
        source = rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        sources.add((source, rule["FromPort"]))
        assert source.startswith(("DataClients", "DatabaseRotationSecurityGroup"))
    # The master secret's rotation function reaches PostgreSQL, not Redis.
    assert {port for source, port in sources if source.startswith("DatabaseRotation")} == {5432}


def test_database_subnet_group_uses_database_subnets(synthesis: Synthesis, env: str) -> None:
    group = the_one(synthesis.resources(env, DATA, "AWS::RDS::DBSubnetGroup"), "DatabaseSubnet")
    subnet_refs = json.dumps(group["Properties"]["SubnetIds"])
    assert "databaseSubnet" in subnet_refs and "privateSubnet" not in subnet_refs


# --- Redis -----------------------------------------------------------------------------------


def test_redis_replication_group(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env].elasticache
    group = the_one(synthesis.resources(env, DATA, "AWS::ElastiCache::ReplicationGroup"), "Cache")
    props = group["Properties"]
    engine = synthesis.environments[env].elasticache.engine
    assert props["Engine"] == engine == "valkey" and props["EngineVersion"].startswith("8.")
    assert props["CacheNodeType"] == settings.node_type
    assert props["ClusterMode"] == "enabled"
    assert props["CacheParameterGroupName"] == "default.valkey8.cluster.on"
    assert props["NumNodeGroups"] == settings.shards
    assert props["ReplicasPerNodeGroup"] == settings.replicas_per_shard
    assert props["AutomaticFailoverEnabled"] is True
    assert props["MultiAZEnabled"] is (settings.replicas_per_shard > 0)
    assert props["AtRestEncryptionEnabled"] is True and "DataKey" in json.dumps(props["KmsKeyId"])
    assert props["TransitEncryptionEnabled"] is True
    assert props["TransitEncryptionMode"] == "required"
    assert "{{resolve:secretsmanager:" in json.dumps(props["AuthToken"])
    assert props["SnapshotRetentionLimit"] == settings.snapshot_retention_days
    assert group["DeletionPolicy"] == "Retain"


def test_redis_auth_token_is_generated_and_encrypted(synthesis: Synthesis, env: str) -> None:
    secret = the_one(synthesis.resources(env, DATA, "AWS::SecretsManager::Secret"), "Cache")
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert "DataKey" in json.dumps(secret["Properties"]["KmsKeyId"])


# --- buckets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", KMS_BUCKETS + SSE_S3_BUCKETS)
def test_every_bucket_is_locked_down(synthesis: Synthesis, env: str, bucket: str) -> None:
    resource = the_one(synthesis.resources(env, DATA, "AWS::S3::Bucket"), f"Buckets{bucket}")
    props = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    algorithm = encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    assert algorithm == ("aws:kms" if bucket in KMS_BUCKETS else "AES256")
    if bucket != "AccessLogs":
        assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith(
            "BucketsAccessLogs"
        )
    rule = props["LifecycleConfiguration"]["Rules"][0]
    transitions = {t["TransitionInDays"]: t["StorageClass"] for t in rule["Transitions"]}
    assert transitions[30] == "STANDARD_IA"
    assert transitions[90] in ("GLACIER", "GLACIER_IR")
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize(
    ("bucket", "kept"),
    [
        ("Uploads", retention.HEALTH_DATA),
        ("Backups", retention.BACKUPS),
        ("StaticAssets", retention.STATIC),
        ("AlbLogs", retention.LOGS),
        ("AccessLogs", retention.LOGS),
    ],
)
def test_every_bucket_keeps_its_versions_as_the_retention_table_says(
    synthesis: Synthesis, env: str, bucket: str, kept: retention.Retention
) -> None:
    resource = the_one(synthesis.resources(env, DATA, "AWS::S3::Bucket"), f"Buckets{bucket}")
    (rule,) = resource["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule.get("ExpirationInDays") == kept.current_days
    noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
    assert (noncurrent or rule.get("NoncurrentVersionExpirationInDays")) == kept.noncurrent_days


@pytest.mark.parametrize("bucket", KMS_BUCKETS + SSE_S3_BUCKETS)
def test_every_bucket_refuses_plain_http(synthesis: Synthesis, env: str, bucket: str) -> None:
    policies = synthesis.resources(env, DATA, "AWS::S3::BucketPolicy")
    policy = the_one(policies, f"Buckets{bucket}")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_load_balancers_may_write_their_logs(synthesis: Synthesis, env: str) -> None:
    policy = the_one(synthesis.resources(env, DATA, "AWS::S3::BucketPolicy"), "BucketsAlbLogs")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    elb = [s for s in statements if s.get("Sid") == "AllowLoadBalancerAccessLogs"]
    assert len(elb) == 1 and elb[0]["Action"] == "s3:PutObject"
    assert "127311923021" in json.dumps(elb[0]["Principal"])  # us-east-1's ELB account


@pytest.mark.parametrize("bucket", ["Uploads", "Backups"])
def test_prod_replicates_health_data_to_the_dr_region(
    synthesis: Synthesis, env: str, bucket: str
) -> None:
    resource = the_one(synthesis.resources(env, DATA, "AWS::S3::Bucket"), f"Buckets{bucket}")
    replication = resource["Properties"].get("ReplicationConfiguration")
    if env != "prod":
        assert replication is None
        return
    settings = synthesis.environments[env]
    rule = replication["Rules"][0]
    target = f"health-platform-prod-{bucket.lower()}-replica-{settings.account}"
    assert rule["Status"] == "Enabled"
    assert json.dumps(rule["Destination"]["Bucket"]).endswith(f':s3:::{target}"]]}}')
    key = json.dumps(rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"])
    assert f":kms:{settings.dr_region}:{settings.account}:alias/" in key
    dr_buckets = synthesis.resources(env, DISASTER_RECOVERY, "AWS::S3::Bucket")
    assert target in [b["Properties"]["BucketName"] for b in dr_buckets.values()]


def test_dr_stack_is_prod_only_and_in_the_dr_region(synthesis: Synthesis) -> None:
    stacks = {
        name: artifact
        for name, artifact in synthesis.manifest()["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert [n for n in stacks if n.endswith("-dr")] == ["health-platform-prod-dr"]
    assert stacks["health-platform-prod-dr"]["environment"].endswith("/us-west-2")


# --- keys, backups, protection ---------------------------------------------------------------


def test_data_key_rotates_and_is_retained(synthesis: Synthesis, env: str) -> None:
    key = the_one(synthesis.resources(env, DATA, "AWS::KMS::Key"), "DataKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_backup_plan_covers_the_database(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    plan = the_one(synthesis.resources(env, DATA, "AWS::Backup::BackupPlan"), "Backup")
    rule = plan["Properties"]["BackupPlan"]["BackupPlanRule"][0]
    if settings.office_hours is None:  # dev's: tests/infra/test_office_hours.py
        assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert rule["Lifecycle"]["DeleteAfterDays"] == settings.recovery_point_days
    copies = rule.get("CopyActions", [])
    if settings.dr_region:
        assert len(copies) == 1
        assert json.dumps(copies[0]["DestinationBackupVaultArn"]).endswith(
            f':backup:{settings.dr_region}:{settings.account}:backup-vault:health-platform-prod-dr"]]}}'
        )
    else:
        assert copies == []
    selection = the_one(synthesis.resources(env, DATA, "AWS::Backup::BackupSelection"), "Backup")
    assert "DatabaseInstance" in json.dumps(selection["Properties"]["BackupSelection"]["Resources"])
    vault = the_one(synthesis.resources(env, DATA, "AWS::Backup::BackupVault"), "Backup")
    assert "DataKey" in json.dumps(vault["Properties"]["EncryptionKeyArn"])


def test_stateful_stacks_are_termination_protected_outside_dev(
    synthesis: Synthesis, env: str
) -> None:
    artifacts = synthesis.manifest()["artifacts"]
    protected = artifacts[f"health-platform-{env}-data"]["properties"].get(
        "terminationProtection", False
    )
    assert protected is (env != "dev")
