"""Stateful resources keep their logical IDs. CloudFormation replaces a resource whose
logical ID changes, and replacing a database or a bucket loses data (aws-cdk #8120).
If this test fails after a refactor, restore the old construct IDs; do not edit the list
unless replacing the resource is the intent."""

from __future__ import annotations

from health_platform.infra.naming import (
    DATA,
    DISASTER_RECOVERY,
    EDGE,
    NETWORK,
    OBSERVABILITY,
    SERVICES,
)
from tests.infra.conftest import Synthesis

STATEFUL_TYPES = (
    "AWS::KMS::Key",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::SecretsManager::Secret",
    "AWS::S3::Bucket",
    "AWS::Backup::BackupVault",
    "AWS::Logs::LogGroup",
    "AWS::ECR::Repository",
)

COMMON_DATA = {
    "DataKey17AFBB84",
    "DatabaseInstanceAA8A5FDE",
    "DatabaseInstancePostgresqlLogs99C410A2",
    "DatabaseInstanceUpgradeLogsAF4D7CA8",
    "DatabaseRotationLogsC2CD343A",
    "CacheReplicationGroupBFE59FF3",
    "CacheAuthToken04672416",
    "CacheSlowLog43E55961",
    "BucketsAccessLogsA5F88218",
    "BucketsAlbLogs60A7B85C",
    "BucketsBackups18324FCD",
    "BucketsStaticAssets7CDD836F",
    "BucketsUploadsDA8F1F54",
    "BackupVaultADF21B19",
    "RegistryFrontend15E2FC08",
    "RegistryBackend8AEF4717",
}
EVERY_ENV = ("dev", "staging", "prod")
# The database's generated master secret. CDK names it after the stack and a hash of how its
# password is generated, so that changing that replaces the secret and, through the new
# secret's reference, sets the new password on the instance (its username is a literal).
MASTER_SECRET = {
    "dev": "healthplatformdevdataDatabaseInstanceSecretCEE37BF93fdaad7efa858a3daf9490cf0a702aeb",
    "staging": (
        "healthplatformstagingdataDatabaseInstanceSecretA45CFE7C3fdaad7efa858a3daf9490cf0a702aeb"
    ),
    "prod": "healthplatformproddataDatabaseInstanceSecret14597EE43fdaad7efa858a3daf9490cf0a702aeb",
}
PINNED = (
    {(NETWORK, env): {"LogsKeyA6AB43B2", "FlowLogsLogGroup9853A85F"} for env in EVERY_ENV}
    | {
        (SERVICES, env): {
            "BackendLogsF812E440",
            "FrontendLogs50918E09",
            "MigrationLogsAD1DB442",
            # The prefix-list lookup's log group (a load balancer on IPv6).
            "CloudFrontIpv6ListLogsEE2EF8B1",
        }
        for env in EVERY_ENV
    }
    | {
        (EDGE, env): {"LogsKeyA6AB43B2", "FirewallLogs7FB06776", "CdnLogs1D5E9AEC"}
        for env in EVERY_ENV
    }
    | {
        (OBSERVABILITY, env): {
            "AlertsKey9E1197AF",
            "AuditTrailAccessLogsC856A1A5",
            "AuditTrailBucketA91FD435",
            "AuditTrailKeyA4D56A7A",
            "AuditTrailLogsD47DB5AF",
            "ConfigurationRecordingKey565E166D",
            "ConfigurationRecordingHistoryBB05ADD6",
        }
        for env in EVERY_ENV
    }
) | {
    (DATA, "dev"): COMMON_DATA | {MASTER_SECRET["dev"]},
    (DATA, "staging"): COMMON_DATA | {MASTER_SECRET["staging"]},
    (DATA, "prod"): COMMON_DATA
    | {
        MASTER_SECRET["prod"],
        "DatabaseReadReplicaFA1999F7",
        "DatabaseReadReplicaPostgresqlLogsAD586986",
        "DatabaseReadReplicaUpgradeLogs8CA03059",
        "BackupReplicationLogsFF6E770F",
    },
    (DISASTER_RECOVERY, "prod"): {
        "DisasterRecoveryKey76615674",
        "AccessLogs8B620ECA",
        "UploadsReplicaC284C7D6",
        "BackupsReplica128CE6BE",
        "Vault23237E5B",
    },
}


def test_stateful_logical_ids_are_pinned(synthesis: Synthesis) -> None:
    for (part, env), expected in PINNED.items():
        resources = synthesis.raw(env, part)["Resources"]
        actual = {lid for lid, r in resources.items() if r["Type"] in STATEFUL_TYPES}
        assert actual == expected, f"{env}-{part}: logical IDs changed"
        for logical_id in expected:
            assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
