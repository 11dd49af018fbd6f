"""Every cdk-nag HIPAA Security finding this project accepts, each with its reason.

This is the only place acknowledgements are made. Each names the rule, the stack part and
construct path it applies to (relative to the stack, `*` matches anything), and the
environments it applies in. A test proves each one still matches something, and another
that a non-compliant resource outside this list still raises its finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from aws_cdk import Acknowledgment, Stack, Validations

from health_platform.infra import naming
from health_platform.settings import EnvironmentSettings

PACK = "HIPAA.Security"


def _always(_: EnvironmentSettings) -> bool:
    return True


def _without_dr(env: EnvironmentSettings) -> bool:
    return env.dr_region is None


def _with_dr(env: EnvironmentSettings) -> bool:
    return env.dr_region is not None


def _dual_stack(env: EnvironmentSettings) -> bool:
    return env.dual_stack


def _without_deletion_protection(env: EnvironmentSettings) -> bool:
    return not env.rds.deletion_protection


def _not_production(env: EnvironmentSettings) -> bool:
    return not env.is_production


def _creates_security_services(env: EnvironmentSettings) -> bool:
    return env.creates_security_services


@dataclass(frozen=True)
class Acknowledgement:
    rule: str
    part: str
    path: str
    reason: str
    applies: Callable[[EnvironmentSettings], bool] = _always

    @property
    def finding_id(self) -> str:
        # cdk-nag v3 reports findings as "<plugin>::<rule>" (cdk-nag #2351).
        return f"{PACK}::{PACK}-{self.rule}"


ACKNOWLEDGEMENTS: tuple[Acknowledgement, ...] = (
    # --- network -------------------------------------------------------------------------
    Acknowledgement(
        "VPCNoUnrestrictedRouteToIGW",
        naming.NETWORK,
        "Network/Vpc/publicSubnet*/DefaultRoute*",
        "Public subnets exist to reach the internet (IPv4, and IPv6 for the load balancer where"
        " CloudFront reaches it over IPv6): they hold only the load balancer and the NAT"
        " gateways. Application and database subnets have no route to the gateway.",
    ),
    # --- data: buckets -------------------------------------------------------------------
    Acknowledgement(
        "S3DefaultEncryptionKMS",
        naming.DATA,
        "Buckets/AlbLogs/Resource",
        "ALB access log delivery supports only SSE-S3 (AES-256) destinations.",
    ),
    Acknowledgement(
        "S3DefaultEncryptionKMS",
        naming.DATA,
        "Buckets/AccessLogs/Resource",
        "S3 server access log delivery supports only SSE-S3 (AES-256) destinations.",
    ),
    Acknowledgement(
        "S3DefaultEncryptionKMS",
        naming.DISASTER_RECOVERY,
        "AccessLogs/Resource",
        "S3 server access log delivery supports only SSE-S3 (AES-256) destinations.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DATA,
        "Buckets/AlbLogs/Resource",
        "Load balancer access logs are operational telemetry, not health data; versioning and"
        " lifecycle keep them, a DR copy would add cost and no recovery value.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DATA,
        "Buckets/AccessLogs/Resource",
        "Server access logs are operational telemetry, not health data; replicating them"
        " would add cost and no recovery value.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DATA,
        "Buckets/StaticAssets/Resource",
        "Static assets are build output, rebuilt and redeployed from the repository.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DATA,
        "Buckets/Uploads/Resource",
        "Cross-region replication is the production DR control; an environment without a"
        " dr_region holds synthetic data only.",
        _without_dr,
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DATA,
        "Buckets/Backups/Resource",
        "Cross-region replication is the production DR control; an environment without a"
        " dr_region holds synthetic data only.",
        _without_dr,
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DISASTER_RECOVERY,
        "*Replica/Resource",
        "This bucket is itself the cross-region replica; replicating it again adds nothing.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.DISASTER_RECOVERY,
        "AccessLogs/Resource",
        "Server access logs of the DR buckets are operational telemetry, not health data.",
    ),
    # --- data: database ------------------------------------------------------------------
    Acknowledgement(
        "RDSInstanceDeletionProtectionEnabled",
        naming.DATA,
        "Database/Instance/Resource",
        "Development databases are disposable and hold synthetic data; staging and prod"
        " require deletion protection (the environment model enforces it in prod).",
        _without_deletion_protection,
    ),
    Acknowledgement(
        "RDSStorageEncrypted",
        naming.DATA,
        "Database/ReadReplica/Resource",
        "A same-region read replica is encrypted with its source's key; CloudFormation"
        " rejects StorageEncrypted together with SourceDBInstanceIdentifier.",
    ),
    Acknowledgement(
        "RDSInBackupPlan",
        naming.DATA,
        "Database/ReadReplica/Resource",
        "The replica is a copy of the primary, which the AWS Backup plan covers.",
    ),
    Acknowledgement(
        "RDSMultiAZSupport",
        naming.DATA,
        "Database/ReadReplica/Resource",
        "The primary is Multi-AZ; the replica is read capacity, and a lost replica is"
        " recreated from the primary without data loss.",
    ),
    # --- data: disaster recovery --------------------------------------------------------
    # AwsCustomResource's one Lambda function per stack (its construct id is the provider's
    # fixed UUID): it starts the database's backup replication into the DR region
    # (data/backup_replication.py). CloudFormation is its only caller.
    Acknowledgement(
        "LambdaConcurrency",
        naming.DATA,
        "AWS679f53fac002430cb0da5b7982bd2287/Resource",
        "Only CloudFormation invokes this custom-resource handler, once per resource operation"
        " of the data stack. Reserved concurrency would take capacity from the account's pool"
        " and fails to deploy in an account whose concurrency quota is still the initial 10.",
        _with_dr,
    ),
    Acknowledgement(
        "LambdaDLQ",
        naming.DATA,
        "AWS679f53fac002430cb0da5b7982bd2287/Resource",
        "CloudFormation waits for this custom-resource handler's answer: a failed call fails"
        " the stack operation with the error in the stack's events and in the handler's"
        " encrypted log group, so a dead-letter queue would hold nothing anyone reads.",
        _with_dr,
    ),
    # --- data: cache ---------------------------------------------------------------------
    Acknowledgement(
        "SecretsManagerRotationEnabled",
        naming.DATA,
        "Cache/AuthToken/Resource",
        "ElastiCache AUTH tokens have no Secrets Manager rotation function; rotation is an"
        " ElastiCache operation (ModifyReplicationGroup with AuthTokenUpdateStrategy=ROTATE)"
        " run as a runbook step.",
    ),
    # --- services --------------------------------------------------------------------------
    # AwsCustomResource's function in the services stack: it looks up the id of CloudFront's
    # IPv6 origin-facing prefix list (services/prefix_lists.py). CloudFormation is its only
    # caller.
    Acknowledgement(
        "LambdaConcurrency",
        naming.SERVICES,
        "AWS679f53fac002430cb0da5b7982bd2287/Resource",
        "Only CloudFormation invokes this custom-resource handler, once per resource operation"
        " of the services stack. Reserved concurrency would take capacity from the account's"
        " pool and fails to deploy in an account whose concurrency quota is still the initial"
        " 10.",
        _dual_stack,
    ),
    Acknowledgement(
        "LambdaDLQ",
        naming.SERVICES,
        "AWS679f53fac002430cb0da5b7982bd2287/Resource",
        "CloudFormation waits for this custom-resource handler's answer: a failed call fails"
        " the stack operation with the error in the stack's events and in the handler's"
        " encrypted log group, so a dead-letter queue would hold nothing anyone reads.",
        _dual_stack,
    ),
    Acknowledgement(
        "ELBDeletionProtectionEnabled",
        naming.SERVICES,
        "LoadBalancer/Alb/Resource",
        "Outside production the load balancer is stateless and re-created by its stack;"
        " production turns deletion protection on.",
        _not_production,
    ),
    # --- edge ------------------------------------------------------------------------------
    Acknowledgement(
        "S3DefaultEncryptionKMS",
        naming.EDGE,
        "CdnLogs/Resource",
        "CloudFront's standard log delivery writes with SSE-S3; a KMS key would need a key"
        " policy for the log delivery service in every environment's edge stack.",
    ),
    Acknowledgement(
        "S3BucketLoggingEnabled",
        naming.EDGE,
        "CdnLogs/Resource",
        "This bucket holds access logs itself; logging its own access would log the logs.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.EDGE,
        "CdnLogs/Resource",
        "CloudFront's access logs hold client addresses with request paths (never cookies"
        " or bodies): kept private, encrypted, versioned and tiered like the load balancer's;"
        " a cross-region copy of this telemetry adds no recovery value.",
    ),
    # --- observability ---------------------------------------------------------------------
    Acknowledgement(
        "S3DefaultEncryptionKMS",
        naming.OBSERVABILITY,
        "AuditTrail/AccessLogs/Resource",
        "S3 server access log delivery supports only SSE-S3 (AES-256) destinations.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.OBSERVABILITY,
        "AuditTrail/AccessLogs/Resource",
        "Server access logs of the trail bucket are operational telemetry, not health data.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.OBSERVABILITY,
        "AuditTrail/Bucket/Resource",
        "The trail records every region and its bucket is versioned, KMS-encrypted and"
        " retained; CloudTrail's digest files prove the logs unaltered. A cross-region copy"
        " of the audit trail is not yet part of the DR design.",
    ),
    Acknowledgement(
        "S3BucketReplicationEnabled",
        naming.OBSERVABILITY,
        "ConfigurationRecording/History/Resource",
        "The bucket receives AWS Config's deliveries of the configuration history, which AWS"
        " Config also keeps in its own store (seven years by default); the bucket is"
        " versioned, KMS-encrypted and retained. Like the audit trail's, a cross-region copy"
        " is not yet part of the DR design.",
        _creates_security_services,
    ),
    Acknowledgement(
        "IAMNoInlinePolicy",
        naming.OBSERVABILITY,
        "AuditTrail/Trail/LogsRole/DefaultPolicy/Resource",
        "CDK's CloudTrail construct writes its delivery role's only permissions"
        " (CreateLogStream and PutLogEvents on the trail's own log group) inline.",
    ),
)


def _relative_path(stack: Stack, path: str) -> str:
    return path.removeprefix(stack.node.path + "/")


def acknowledge(
    stack: Stack, part: str, settings: EnvironmentSettings
) -> list[tuple[Acknowledgement, str]]:
    """Apply the acknowledgements for one stack; return each one applied with its path."""
    wanted = [a for a in ACKNOWLEDGEMENTS if a.part == part and a.applies(settings)]
    applied: list[tuple[Acknowledgement, str]] = []
    if not wanted:
        return applied
    for construct in stack.node.find_all():
        path = _relative_path(stack, construct.node.path)
        for ack in wanted:
            if fnmatchcase(path, ack.path):
                Validations.of(construct).acknowledge(
                    Acknowledgment(id=ack.finding_id, reason=ack.reason)
                )
                applied.append((ack, path))
    return applied
