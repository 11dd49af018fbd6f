"""What the report maps: the HIPAA Security Rule's technical safeguards (45 CFR 164.312),
the seed's Security Best Practices, and the probes that find each one's evidence in the
templates. What no template can show is the customer's, listed last."""

from __future__ import annotations

from dataclasses import dataclass

from health_platform.compliance_report.evidence import (
    Probe,
    all_of,
    all_public_access_blocked,
    assumed_by_services_only,
    attribute,
    denies_insecure_transport,
    describe_actions,
    describe_ingress,
    describe_principals,
    describe_transport,
    exists,
    is_false,
    is_set,
    is_true,
    no_open_ingress,
    no_wildcard_actions,
    one_of,
    positive,
    probe,
    redacted,
    starts_with,
    tag,
)
from health_platform.infra.compliance.deployability.listeners import AEAD_ONLY_POLICIES

RDS = "AWS::RDS::DBInstance"
BUCKET = "AWS::S3::Bucket"
CACHE = "AWS::ElastiCache::ReplicationGroup"
TRAIL = "AWS::CloudTrail::Trail"
LOG_GROUP = "AWS::Logs::LogGroup"
IAM_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
HTTPS = one_of("https-only", "redirect-to-https")

# --- encryption at rest ---------------------------------------------------------------------
RDS_ENCRYPTED = probe("Database storage encrypted", RDS, "StorageEncrypted", is_true)
RDS_KMS = probe("Database encrypted with a customer-managed KMS key", RDS, "KmsKeyId", is_set)
BUCKET_ENCRYPTION = probe(
    "Bucket default encryption",
    BUCKET,
    "BucketEncryption/ServerSideEncryptionConfiguration/*/ServerSideEncryptionByDefault/SSEAlgorithm",
    all_of(one_of("aws:kms", "aws:kms:dsse", "AES256")),
)
CACHE_AT_REST = probe("Cache encrypted at rest", CACHE, "AtRestEncryptionEnabled", is_true)
CACHE_KMS = probe("Cache encrypted with a customer-managed KMS key", CACHE, "KmsKeyId", is_set)
ECR_KMS = probe(
    "Image repositories encrypted with KMS",
    "AWS::ECR::Repository",
    "EncryptionConfiguration/EncryptionType",
    one_of("KMS"),
)
KEY_ROTATION = probe("KMS keys rotate yearly", "AWS::KMS::Key", "EnableKeyRotation", is_true)
LOG_GROUP_KMS = probe("Log groups encrypted with a KMS key", LOG_GROUP, "KmsKeyId", is_set)
BACKUP_VAULT_KMS = probe(
    "Backup vault encrypted with a KMS key", "AWS::Backup::BackupVault", "EncryptionKeyArn", is_set
)

# --- access ---------------------------------------------------------------------------------
ROLE_INLINE = probe(
    "IAM roles' inline policies grant no wildcard action",
    "AWS::IAM::Role",
    "Policies",
    no_wildcard_actions,
    describe_actions,
)
POLICY_NO_WILDCARD = probe(
    "IAM policies grant no wildcard action",
    IAM_POLICIES,
    "PolicyDocument",
    no_wildcard_actions,
    describe_actions,
)
RDS_PRIVATE = probe("Database not publicly accessible", RDS, "PubliclyAccessible", is_false)
PUBLIC_ACCESS_BLOCK = probe(
    "Bucket blocks every kind of public access",
    BUCKET,
    "PublicAccessBlockConfiguration",
    all_public_access_blocked,
)
ACCESS_ANALYZER = probe(
    "IAM Access Analyzer watches for external access",
    "AWS::AccessAnalyzer::Analyzer",
    "Type",
    is_set,
)
SERVICE_ROLES = probe(
    "Each role is assumed by an AWS service, not a person",
    "AWS::IAM::Role",
    "AssumeRolePolicyDocument",
    assumed_by_services_only,
    describe_principals,
)
OPEN_INGRESS = probe(
    "Security groups admit nothing from the whole internet",
    "AWS::EC2::SecurityGroup",
    "SecurityGroupIngress",
    no_open_ingress,
    describe_ingress,
)

# --- audit ----------------------------------------------------------------------------------
TRAIL_MULTI_REGION = probe("CloudTrail records every region", TRAIL, "IsMultiRegionTrail", is_true)
TRAIL_LOGGING = probe("CloudTrail is logging", TRAIL, "IsLogging", is_true)
TRAIL_KMS = probe("CloudTrail log files encrypted with KMS", TRAIL, "KMSKeyId", is_set)
TRAIL_DATA_EVENTS = probe(
    "CloudTrail records S3 data events",
    TRAIL,
    "EventSelectors/*/DataResources/*/Type",
    lambda types: isinstance(types, list) and any(types),
)
TRAIL_VALIDATION = probe(
    "CloudTrail log file validation (digests)", TRAIL, "EnableLogFileValidation", is_true
)
LOG_RETENTION = probe("Log groups keep logs for a set time", LOG_GROUP, "RetentionInDays", positive)
FLOW_LOGS = probe(
    "VPC flow logs record all traffic", "AWS::EC2::FlowLog", "TrafficType", one_of("ALL")
)
RDS_LOG_EXPORTS = probe(
    "Database logs exported to CloudWatch", RDS, "EnableCloudwatchLogsExports", is_set
)
ALB_ACCESS_LOGS = probe(
    "Load balancer access logs",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "LoadBalancerAttributes",
    lambda attributes: attribute("access_logs.s3.enabled")(attributes) == "true",
    lambda attributes: f"access_logs.s3.enabled={attribute('access_logs.s3.enabled')(attributes)}",
)
WAF_LOGGING = probe(
    "Web ACL requests logged", "AWS::WAFv2::LoggingConfiguration", "LogDestinationConfigs", is_set
)
GUARDDUTY = probe("GuardDuty threat detection", "AWS::GuardDuty::Detector", "Enable", is_true)
SECURITY_HUB = probe(
    "Security Hub with its default standards",
    "AWS::SecurityHub::Hub",
    "EnableDefaultStandards",
    is_true,
)
CONFIG_RECORDER = probe(
    "AWS Config records every supported resource type",
    "AWS::Config::ConfigurationRecorder",
    "RecordingGroup/AllSupported",
    is_true,
)
CONFIG_PACK = probe(
    "AWS Config evaluates the HIPAA conformance pack",
    "AWS::Config::ConformancePack",
    "ConformancePackName",
    is_set,
)

# --- integrity ------------------------------------------------------------------------------
BUCKET_VERSIONING = probe(
    "Bucket versioning", BUCKET, "VersioningConfiguration/Status", one_of("Enabled")
)
BACKUP_PLAN = probe(
    "AWS Backup plan on a schedule",
    "AWS::Backup::BackupPlan",
    "BackupPlan/BackupPlanRule/*/ScheduleExpression",
    all_of(is_set),
)
RDS_BACKUPS = probe("Database automated backups", RDS, "BackupRetentionPeriod", positive)
ECR_IMMUTABLE = probe(
    "Image tags immutable", "AWS::ECR::Repository", "ImageTagMutability", one_of("IMMUTABLE")
)
ECR_SCAN = probe(
    "Images scanned on push",
    "AWS::ECR::Repository",
    "ImageScanningConfiguration/ScanOnPush",
    is_true,
)

# --- authentication -------------------------------------------------------------------------
RDS_IAM_AUTH = probe("Database IAM authentication", RDS, "EnableIAMDatabaseAuthentication", is_true)
SECRET_ROTATION = probe(
    "Secrets Manager rotation schedule",
    "AWS::SecretsManager::RotationSchedule",
    "RotationRules/ScheduleExpression",
    is_set,
)
CACHE_AUTH = probe("Cache requires an AUTH token", CACHE, "AuthToken", is_set, redacted)

# --- transmission ---------------------------------------------------------------------------
LISTENER_HTTPS = probe(
    "Load balancer listens on HTTPS only",
    "AWS::ElasticLoadBalancingV2::Listener",
    "Protocol",
    one_of("HTTPS"),
)
LISTENER_POLICY = probe(
    "Load balancer TLS policy (forward-secret AEAD suites only, as HP-ALB-TLS-POLICY)",
    "AWS::ElasticLoadBalancingV2::Listener",
    "SslPolicy",
    one_of(*sorted(AEAD_ONLY_POLICIES)),
)
TARGETS_TLS = probe(
    "Load balancer to tasks over TLS",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "Protocol",
    one_of("HTTPS"),
)
CDN_DEFAULT_HTTPS = probe(
    "CloudFront viewers on HTTPS (default behaviour)",
    "AWS::CloudFront::Distribution",
    "DistributionConfig/DefaultCacheBehavior/ViewerProtocolPolicy",
    HTTPS,
)
CDN_BEHAVIOURS_HTTPS = probe(
    "CloudFront viewers on HTTPS (every other behaviour)",
    "AWS::CloudFront::Distribution",
    "DistributionConfig/CacheBehaviors/*/ViewerProtocolPolicy",
    all_of(HTTPS),
)
CDN_MIN_TLS = probe(
    "CloudFront minimum TLS version",
    "AWS::CloudFront::Distribution",
    "DistributionConfig/ViewerCertificate/MinimumProtocolVersion",
    starts_with("TLSv1.2", "TLSv1.3"),
)
BUCKET_TLS_ONLY = probe(
    "Bucket policy refuses requests without TLS",
    "AWS::S3::BucketPolicy",
    "PolicyDocument",
    denies_insecure_transport,
    describe_transport,
)
CACHE_IN_TRANSIT = probe("Cache encrypted in transit", CACHE, "TransitEncryptionEnabled", is_true)
RDS_FORCE_SSL = probe(
    "Database refuses connections without TLS (rds.force_ssl)",
    "AWS::RDS::DBParameterGroup",
    "Parameters/rds.force_ssl",
    lambda value: str(value) == "1",
)
# Every endpoint with its kind: S3's gateway everywhere; interface endpoints for the other
# AWS APIs only where the environment keeps them (dev's calls go out through the NAT).
VPC_ENDPOINTS = probe(
    "VPC endpoints (S3's gateway; the other AWS APIs' where the environment has them)",
    "AWS::EC2::VPCEndpoint",
    "VpcEndpointType",
    exists,
    lambda kind: f"{kind or 'Gateway'}",
)

# --- network --------------------------------------------------------------------------------
SUBNET_TIERS = probe(
    "Subnets in tiers (public, private, isolated)",
    "AWS::EC2::Subnet",
    "Tags",
    lambda tags: is_set(tag("aws-cdk:subnet-type")(tags)),
    lambda tags: f"aws-cdk:subnet-type={tag('aws-cdk:subnet-type')(tags)}",
)
NACLS = probe("Network ACLs", "AWS::EC2::NetworkAcl", "", exists, lambda _: "defined")
WAF = probe("Web application firewall at the edge", "AWS::WAFv2::WebACL", "Scope", is_set)


@dataclass(frozen=True)
class Section:
    title: str
    summary: str
    probes: tuple[Probe, ...] = ()
    customer: str = ""  # what the customer does, when no template can show it


SAFEGUARDS: tuple[Section, ...] = (
    Section(
        "164.312(a) Access control",
        "Only authorized people and software reach health data; (a)(2)(iv) encryption and"
        " decryption at rest.",
        (
            ROLE_INLINE,
            POLICY_NO_WILDCARD,
            RDS_PRIVATE,
            PUBLIC_ACCESS_BLOCK,
            ACCESS_ANALYZER,
            RDS_ENCRYPTED,
            RDS_KMS,
            BUCKET_ENCRYPTION,
            CACHE_AT_REST,
            CACHE_KMS,
            ECR_KMS,
            KEY_ROTATION,
        ),
    ),
    Section(
        "164.312(b) Audit controls",
        "Activity in the systems that hold health data is recorded and examined.",
        (
            TRAIL_MULTI_REGION,
            TRAIL_LOGGING,
            TRAIL_KMS,
            TRAIL_DATA_EVENTS,
            LOG_GROUP_KMS,
            LOG_RETENTION,
            FLOW_LOGS,
            RDS_LOG_EXPORTS,
            ALB_ACCESS_LOGS,
            WAF_LOGGING,
            GUARDDUTY,
            SECURITY_HUB,
            CONFIG_RECORDER,
            CONFIG_PACK,
        ),
    ),
    Section(
        "164.312(c) Integrity",
        "Health data is not altered or destroyed improperly, and a change can be detected.",
        (
            TRAIL_VALIDATION,
            BUCKET_VERSIONING,
            BACKUP_PLAN,
            BACKUP_VAULT_KMS,
            RDS_BACKUPS,
            ECR_IMMUTABLE,
            ECR_SCAN,
        ),
    ),
    Section(
        "164.312(d) Person or entity authentication",
        "Whoever (or whatever) seeks access is who it claims to be. People's sign-in (TOTP for"
        " administrators) is the application's; the templates show the services' identities.",
        (RDS_IAM_AUTH, SECRET_ROTATION, CACHE_AUTH, SERVICE_ROLES),
    ),
    Section(
        "164.312(e) Transmission security",
        "Health data is encrypted on every network it crosses.",
        (
            LISTENER_HTTPS,
            LISTENER_POLICY,
            TARGETS_TLS,
            CDN_DEFAULT_HTTPS,
            CDN_BEHAVIOURS_HTTPS,
            CDN_MIN_TLS,
            BUCKET_TLS_ONLY,
            CACHE_IN_TRANSIT,
            RDS_FORCE_SSL,
            VPC_ENDPOINTS,
        ),
    ),
)

# The seed's "Security Best Practices" (cloud-infrastructure.md), in its order.
PRACTICES: tuple[Section, ...] = (
    Section("Network: VPC design", "Proper subnet segmentation.", (SUBNET_TIERS,)),
    Section("Network: Security groups", "Least privilege access.", (OPEN_INGRESS,)),
    Section("Network: NACLs", "An additional layer of network security.", (NACLS,)),
    Section("Network: VPC Flow Logs", "Network traffic monitoring.", (FLOW_LOGS,)),
    Section(
        "Data protection: Encryption",
        "At rest and in transit for all data.",
        (RDS_ENCRYPTED, BUCKET_ENCRYPTION, CACHE_AT_REST, CACHE_IN_TRANSIT, BUCKET_TLS_ONLY),
    ),
    Section(
        "Data protection: Backup encryption",
        "Encrypted backups and snapshots (RDS snapshots inherit the instance's key).",
        (BACKUP_VAULT_KMS, RDS_KMS),
    ),
    Section("Data protection: Key management", "AWS KMS for encryption keys.", (KEY_ROTATION,)),
    Section(
        "Data protection: Data classification",
        "Proper handling of sensitive health data.",
        customer="Classify the data the platform holds and record which stores hold health"
        " data (the database, the uploads bucket, their backups).",
    ),
    Section(
        "Access control: IAM policies",
        "Least privilege principles.",
        (ROLE_INLINE, POLICY_NO_WILDCARD),
    ),
    Section(
        "Access control: MFA",
        "Multi-factor authentication for admin access.",
        customer="Require MFA for every person who signs in to the AWS console or uses"
        " credentials; the application's administrators enroll TOTP.",
    ),
    Section("Access control: Service roles", "Dedicated roles for each service.", (SERVICE_ROLES,)),
    Section(
        "Access control: Regular audits",
        "Access reviews and cleanup.",
        (ACCESS_ANALYZER,),
        customer="Review who has access (IAM users, roles, SSO assignments, application"
        " administrators) on a schedule, and remove what is no longer needed.",
    ),
    Section(
        "Compliance: HIPAA",
        "Health data protection requirements: the safeguards above and the cdk-nag"
        " HIPAA Security pack below.",
        (GUARDDUTY, SECURITY_HUB, CONFIG_RECORDER, CONFIG_PACK),
    ),
    Section(
        "Compliance: SOC 2",
        "Security and availability controls.",
        customer="A SOC 2 attestation is an audit of the organization, not of templates.",
    ),
    Section(
        "Compliance: Audit logging",
        "Comprehensive audit trails.",
        (TRAIL_MULTI_REGION, TRAIL_VALIDATION, LOG_RETENTION),
    ),
    Section(
        "Compliance: Data residency",
        "Regional data storage requirements.",
        customer="Choose the environment's region (and production's DR region) to meet the"
        " residency rules that apply; every stack names its region.",
    ),
)

CUSTOMER_DUTIES: tuple[str, ...] = (
    "Sign a Business Associate Addendum (BAA) with AWS (AWS Artifact) before any health data"
    " reaches the account.",
    "Use only HIPAA-eligible services for health data in the account (AWS's list of"
    " HIPAA Eligible Services), including anything added later by hand.",
    "Require MFA for every human who signs in to the console or holds credentials; no"
    " root-user access keys, and MFA on the root user.",
    "Review access periodically (IAM, SSO, application administrators) and act on IAM"
    " Access Analyzer and Security Hub findings.",
    "Train the workforce on handling health data, and keep a record of the training.",
    "Keep an incident response plan (who is alerted, who decides, breach notification"
    " within HIPAA's deadlines) and rehearse it; subscribe people to the alert topic.",
    "Perform and document a risk analysis, and keep policies and procedures for the"
    " administrative and physical safeguards (164.308, 164.310).",
    "Sign BAAs with every other vendor that handles the data (email, support, analytics).",
)
