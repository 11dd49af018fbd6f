"""Our HIPAA conformance pack for AWS Config: AWS managed rules, each with the paragraph of
the HIPAA Security Rule (45 CFR 164.308, 164.312) whose safeguard it evidences, chosen for
what this platform runs (S3, RDS, ElastiCache, Fargate task definitions, the ALB,
CloudTrail, CloudWatch Logs, KMS, the VPC, IAM, GuardDuty, Security Hub, ECR, Secrets
Manager, SNS, WAF, CloudFront, AWS Backup). Written here rather than taken from AWS's
sample pack, which is at its 130-rule limit and lacks CloudFront, ECR, CloudWatch Logs and
ElastiCache encryption.

Every rule is one the platform's design passes, so a NON_COMPLIANT result means drift (a
change made outside the code) or a gap of the account that its owner must close (root MFA,
a password policy, a default VPC left open, and the log groups AWS creates itself outside
the stacks: Container Insights', RDSOSMetrics, a CDK custom resource's; docs/operations.md
says how), each worth an alert. Left out because the
design differs on purpose (several are cdk-nag acknowledgements too, in acknowledgements.py):
KMS default encryption and access logging of every bucket (log buckets take SSE-S3 and do
not log themselves), replication of every bucket, no ACLs on any bucket (CloudFront's log delivery
needs them), deletion protection of every load balancer, Multi-AZ and backup plans for the
read replica, rotation of every secret (the cache's AUTH token), no inline IAM policies
(CDK's CloudTrail role and bootstrap roles have them), no route to the internet gateway and
no public IPs on launch (the public subnets exist for both), a WAF on the load balancer (it
is CloudFront's, and the load balancer admits only CloudFront), and the account-level S3
public access block (the platform sets it on every bucket, not on the account).

CloudFront's distribution and its web ACL are global resources that AWS Config records in
us-east-1 only; their rules exist there alone, and a pack in any other region leaves them
out (`only_in`). Identifiers, resource types and parameters are those of each rule's page
in the AWS Config developer guide (docs.aws.amazon.com/config/latest/developerguide/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import yaml

from health_platform.contract import DATABASE_PORT, REDIS_PORT
from health_platform.infra import naming
from health_platform.settings import EnvironmentSettings

# PutConformancePack's limits: the template body's size, and rules in one pack.
TEMPLATE_BODY_MAX_BYTES = 51_200
RULES_PER_PACK_MAX = 130

# MinRetentionTime of cw-loggroup-retention-period-check takes only these.
RULE_LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653,
)  # fmt: skip


@dataclass(frozen=True)
class Safeguard:
    paragraph: str  # of 45 CFR
    title: str


ACCESS_CONTROL = Safeguard("164.312(a)(1)", "access control")
ENCRYPTION = Safeguard("164.312(a)(2)(iv)", "encryption and decryption")
AUDIT = Safeguard("164.312(b)", "audit controls")
INTEGRITY = Safeguard("164.312(c)(1)", "integrity")
AUTHENTICATION = Safeguard("164.312(d)", "person or entity authentication")
TRANSMISSION = Safeguard("164.312(e)(1)", "transmission security")
TRANSMISSION_ENCRYPTION = Safeguard("164.312(e)(2)(ii)", "encryption in transmission")
RISK_MANAGEMENT = Safeguard("164.308(a)(1)(ii)(B)", "risk management")
ACTIVITY_REVIEW = Safeguard("164.308(a)(1)(ii)(D)", "information system activity review")
MALICIOUS_SOFTWARE = Safeguard("164.308(a)(5)(ii)(B)", "protection from malicious software")
PASSWORDS = Safeguard("164.308(a)(5)(ii)(D)", "password management")
BACKUP = Safeguard("164.308(a)(7)(ii)(A)", "data backup plan")

Parameters = Callable[[EnvironmentSettings], Mapping[str, str]]


def fixed(**values: str) -> Parameters:
    return lambda _: values


def no_parameters(_: EnvironmentSettings) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class ManagedRule:
    identifier: str  # the rule's SourceIdentifier
    safeguard: Safeguard
    # Change-triggered rules: the resource types whose changes start an evaluation (without
    # a scope, every change in the account would). Periodic rules: empty.
    scope: tuple[str, ...] = ()
    # Rule parameters, from the environment where they state its own settings.
    parameters: Parameters = no_parameters
    only_in: str | None = None  # the one region the rule exists in

    @property
    def slug(self) -> str:
        return self.identifier.lower().replace("_", "-")

    @property
    def logical_id(self) -> str:
        return "".join(word.capitalize() for word in self.identifier.split("_"))


def _shortest_log_retention(env: EnvironmentSettings) -> Mapping[str, str]:
    """The environment's shortest log retention, as the rule accepts it: no log group of
    the platform keeps less."""
    shortest = min(
        env.ecs.log_retention_days, env.rds.log_retention_days, env.network.flow_log_retention_days
    )
    return {"MinRetentionTime": str(max(d for d in RULE_LOG_RETENTION_DAYS if d <= shortest))}


def _database_backups(env: EnvironmentSettings) -> Mapping[str, str]:
    # The read replica is a copy of the primary, which is backed up.
    return {
        "backupRetentionMinimum": str(env.rds.backup_retention_days),
        "checkReadReplicas": "false",
    }


def _backup_plan(env: EnvironmentSettings) -> Mapping[str, str]:
    # data/backup.py: one recovery point a day (on office days where the database stops
    # outside them: nothing changes while it is stopped), kept over the longest gap.
    return {
        "requiredFrequencyValue": str(env.backup_frequency_days),
        "requiredFrequencyUnit": "days",
        "requiredRetentionDays": str(env.recovery_point_days),
    }


def _recovery_points(env: EnvironmentSettings) -> Mapping[str, str]:
    return {"requiredRetentionDays": str(env.recovery_point_days)}


def _cache_snapshots(env: EnvironmentSettings) -> Mapping[str, str]:
    return {"snapshotRetentionPeriod": str(env.elasticache.snapshot_retention_days)}


def _trail_bucket(env: EnvironmentSettings) -> Mapping[str, str]:
    return {"s3BucketName": naming.bucket_name(env.name, "cloudtrail", env.account)}


def _documents_data_events(env: EnvironmentSettings) -> Mapping[str, str]:
    # Who read, wrote or deleted a patient's document (observability/audit_trail.py).
    return {"S3BucketNames": naming.bucket_name(env.name, "uploads", env.account)}


BUCKET = ("AWS::S3::Bucket",)
DATABASE = ("AWS::RDS::DBInstance",)
SNAPSHOTS = ("AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot")
TASK_DEFINITION = ("AWS::ECS::TaskDefinition",)
SECURITY_GROUP = ("AWS::EC2::SecurityGroup",)
IAM_POLICY = ("AWS::IAM::Policy",)
RECOVERY_POINT = ("AWS::Backup::RecoveryPoint",)
DISTRIBUTION = ("AWS::CloudFront::Distribution",)
CLOUDFRONT = naming.CLOUDFRONT_REGION

RULES: tuple[ManagedRule, ...] = (
    # --- S3 ----------------------------------------------------------------------------------
    ManagedRule("S3_BUCKET_SSL_REQUESTS_ONLY", TRANSMISSION, BUCKET),
    ManagedRule("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", ENCRYPTION, BUCKET),
    ManagedRule("S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", ACCESS_CONTROL, BUCKET),
    ManagedRule("S3_BUCKET_PUBLIC_READ_PROHIBITED", ACCESS_CONTROL, BUCKET),
    ManagedRule("S3_BUCKET_PUBLIC_WRITE_PROHIBITED", INTEGRITY, BUCKET),
    ManagedRule("S3_BUCKET_VERSIONING_ENABLED", INTEGRITY, BUCKET),
    # --- RDS ---------------------------------------------------------------------------------
    ManagedRule("RDS_STORAGE_ENCRYPTED", ENCRYPTION, DATABASE),
    ManagedRule("RDS_SNAPSHOT_ENCRYPTED", ENCRYPTION, SNAPSHOTS),
    ManagedRule("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", ACCESS_CONTROL, DATABASE),
    ManagedRule("RDS_SNAPSHOTS_PUBLIC_PROHIBITED", ACCESS_CONTROL, SNAPSHOTS),
    ManagedRule("RDS_LOGGING_ENABLED", AUDIT, DATABASE),
    ManagedRule("DB_INSTANCE_BACKUP_ENABLED", BACKUP, DATABASE, _database_backups),
    # --- ElastiCache -------------------------------------------------------------------------
    ManagedRule("ELASTICACHE_REPL_GRP_ENCRYPTED_AT_REST", ENCRYPTION),
    ManagedRule("ELASTICACHE_REPL_GRP_ENCRYPTED_IN_TRANSIT", TRANSMISSION_ENCRYPTION),
    ManagedRule("ELASTICACHE_REPL_GRP_REDIS_AUTH_ENABLED", AUTHENTICATION),
    ManagedRule("ELASTICACHE_REDIS_CLUSTER_AUTOMATIC_BACKUP_CHECK", BACKUP, (), _cache_snapshots),
    # --- ECS on Fargate (not ECS_TASK_DEFINITION_NONROOT_USER: it reads EC2 tasks only) ------
    ManagedRule("ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT", ACCESS_CONTROL, TASK_DEFINITION),
    ManagedRule("ECS_CONTAINERS_NONPRIVILEGED", ACCESS_CONTROL, TASK_DEFINITION),
    ManagedRule("ECS_CONTAINERS_READONLY_ACCESS", INTEGRITY, TASK_DEFINITION),
    ManagedRule("ECS_TASK_DEFINITION_LOG_CONFIGURATION", AUDIT, TASK_DEFINITION),
    # --- the load balancer -------------------------------------------------------------------
    ManagedRule("ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK", TRANSMISSION),
    ManagedRule(
        "ALB_HTTP_DROP_INVALID_HEADER_ENABLED",
        INTEGRITY,
        ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    ),
    ManagedRule(
        "ELB_LOGGING_ENABLED",
        AUDIT,
        ("AWS::ElasticLoadBalancing::LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ),
    ManagedRule("ELBV2_ACM_CERTIFICATE_REQUIRED", TRANSMISSION_ENCRYPTION),
    # --- CloudTrail and CloudWatch Logs ------------------------------------------------------
    ManagedRule("MULTI_REGION_CLOUD_TRAIL_ENABLED", AUDIT, (), _trail_bucket),
    ManagedRule("CLOUD_TRAIL_ENCRYPTION_ENABLED", AUDIT),
    ManagedRule("CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", INTEGRITY),
    ManagedRule("CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED", ACTIVITY_REVIEW),
    ManagedRule("CLOUDTRAIL_S3_DATAEVENTS_ENABLED", AUDIT, (), _documents_data_events),
    ManagedRule("CLOUDWATCH_LOG_GROUP_ENCRYPTED", ENCRYPTION),
    ManagedRule("CW_LOGGROUP_RETENTION_PERIOD_CHECK", AUDIT, (), _shortest_log_retention),
    # --- KMS ---------------------------------------------------------------------------------
    ManagedRule("CMK_BACKING_KEY_ROTATION_ENABLED", ENCRYPTION),
    ManagedRule("KMS_CMK_NOT_SCHEDULED_FOR_DELETION", ENCRYPTION),
    # --- the network -------------------------------------------------------------------------
    ManagedRule("VPC_FLOW_LOGS_ENABLED", AUDIT, (), fixed(trafficType="ALL")),
    ManagedRule("VPC_DEFAULT_SECURITY_GROUP_CLOSED", ACCESS_CONTROL, SECURITY_GROUP),
    ManagedRule("INCOMING_SSH_DISABLED", ACCESS_CONTROL, SECURITY_GROUP),
    ManagedRule(
        "RESTRICTED_INCOMING_TRAFFIC",
        ACCESS_CONTROL,
        SECURITY_GROUP,
        # FTP, RDP, and the database's and the cache's ports: never open to the internet.
        fixed(
            blockedPort1="20",
            blockedPort2="21",
            blockedPort3="3389",
            blockedPort4=str(DATABASE_PORT),
            blockedPort5=str(REDIS_PORT),
        ),
    ),
    # --- IAM and the account -----------------------------------------------------------------
    ManagedRule("ROOT_ACCOUNT_MFA_ENABLED", AUTHENTICATION),
    ManagedRule("IAM_ROOT_ACCESS_KEY_CHECK", ACCESS_CONTROL),
    ManagedRule("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", AUTHENTICATION),
    ManagedRule(
        "IAM_PASSWORD_POLICY",
        PASSWORDS,
        (),
        fixed(
            RequireUppercaseCharacters="true",
            RequireLowercaseCharacters="true",
            RequireSymbols="true",
            RequireNumbers="true",
            MinimumPasswordLength="14",
            PasswordReusePrevention="24",
            MaxPasswordAge="90",
        ),
    ),
    ManagedRule("ACCESS_KEYS_ROTATED", PASSWORDS, (), fixed(maxAccessKeyAge="90")),
    ManagedRule(
        "IAM_USER_UNUSED_CREDENTIALS_CHECK", ACCESS_CONTROL, (), fixed(maxCredentialUsageAge="90")
    ),
    ManagedRule("IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", ACCESS_CONTROL, IAM_POLICY),
    ManagedRule("IAM_POLICY_NO_STATEMENTS_WITH_FULL_ACCESS", ACCESS_CONTROL, IAM_POLICY),
    # --- threat detection, images, secrets, alerts -------------------------------------------
    ManagedRule("GUARDDUTY_ENABLED_CENTRALIZED", ACTIVITY_REVIEW),
    ManagedRule("SECURITYHUB_ENABLED", ACTIVITY_REVIEW),
    ManagedRule("ECR_PRIVATE_IMAGE_SCANNING_ENABLED", MALICIOUS_SOFTWARE),
    ManagedRule("ECR_PRIVATE_TAG_IMMUTABILITY_ENABLED", INTEGRITY, ("AWS::ECR::Repository",)),
    ManagedRule("SECRETSMANAGER_USING_CMK", ENCRYPTION, ("AWS::SecretsManager::Secret",)),
    ManagedRule("SNS_ENCRYPTED_KMS", ENCRYPTION, ("AWS::SNS::Topic",)),
    # --- AWS Backup --------------------------------------------------------------------------
    ManagedRule(
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
        BACKUP,
        ("AWS::Backup::BackupPlan",),
        _backup_plan,
    ),
    ManagedRule("BACKUP_RECOVERY_POINT_ENCRYPTED", ENCRYPTION, RECOVERY_POINT),
    ManagedRule(
        "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", BACKUP, RECOVERY_POINT, _recovery_points
    ),
    # --- CloudFront and its web ACL: us-east-1 only ------------------------------------------
    ManagedRule(
        "CLOUDFRONT_VIEWER_POLICY_HTTPS", TRANSMISSION_ENCRYPTION, DISTRIBUTION, only_in=CLOUDFRONT
    ),
    ManagedRule(
        "CLOUDFRONT_TRAFFIC_TO_ORIGIN_ENCRYPTED",
        TRANSMISSION_ENCRYPTION,
        DISTRIBUTION,
        only_in=CLOUDFRONT,
    ),
    ManagedRule(
        "CLOUDFRONT_NO_DEPRECATED_SSL_PROTOCOLS", TRANSMISSION, DISTRIBUTION, only_in=CLOUDFRONT
    ),
    ManagedRule(
        "CLOUDFRONT_S3_ORIGIN_ACCESS_CONTROL_ENABLED",
        ACCESS_CONTROL,
        DISTRIBUTION,
        only_in=CLOUDFRONT,
    ),
    ManagedRule(
        "CLOUDFRONT_ASSOCIATED_WITH_WAF", RISK_MANAGEMENT, DISTRIBUTION, only_in=CLOUDFRONT
    ),
    ManagedRule("CLOUDFRONT_ACCESSLOGS_ENABLED", AUDIT, DISTRIBUTION, only_in=CLOUDFRONT),
    ManagedRule("WAFV2_LOGGING_ENABLED", AUDIT, only_in=CLOUDFRONT),
    ManagedRule(
        "WAFV2_WEBACL_NOT_EMPTY", RISK_MANAGEMENT, ("AWS::WAFv2::WebACL",), only_in=CLOUDFRONT
    ),
)


def rules_for(region: str) -> list[ManagedRule]:
    """The rules that exist in `region`."""
    return [rule for rule in RULES if rule.only_in in (None, region)]


def _config_rule(rule: ManagedRule, env: EnvironmentSettings) -> dict[str, object]:
    properties: dict[str, object] = {
        "ConfigRuleName": naming.config_rule_name(env.name, rule.slug),
        "Description": f"HIPAA {rule.safeguard.paragraph} {rule.safeguard.title}",
        "Source": {"Owner": "AWS", "SourceIdentifier": rule.identifier},
    }
    if rule.scope:
        properties["Scope"] = {"ComplianceResourceTypes": list(rule.scope)}
    parameters = rule.parameters(env)
    if parameters:
        properties["InputParameters"] = dict(parameters)
    return {"Type": "AWS::Config::ConfigRule", "Properties": properties}


def template_body(env: EnvironmentSettings) -> str:
    """The pack's template (YAML, as AWS Config's own packs are written) for the
    environment's region: its rules only, with the environment's parameters in place."""
    template = {
        "Resources": {rule.logical_id: _config_rule(rule, env) for rule in rules_for(env.region)}
    }
    return yaml.safe_dump(template, sort_keys=False, width=1000)
