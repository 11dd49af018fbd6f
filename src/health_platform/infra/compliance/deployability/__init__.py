"""The deployability pack of `hp infra check`: rules about what AWS rejects at deploy time,
or breaks at run time, that no schema (cfn-lint) or security pack (cdk-nag) sees: quotas,
how Fargate mounts volumes and injects secrets, what CloudFront checks and caches, what
the WAF blocks, what TLS a listener offers, where copies into the disaster-recovery region
may go and what backups AWS Backup can restore. Each rule covers a class of defect, reads
every template of an environment together, and has a known-bad test
(tests/unit/test_deployability.py).

A pass over the synthesized JSON rather than a cdk-nag NagPack: most rules need more than
one resource (a security group and the ingress rules other stacks add to it, a
distribution and the certificate of its origin in another stack and region)."""

from __future__ import annotations

from health_platform.infra.compliance.deployability.alerts import SNS_ENDPOINT_CONFIRMS
from health_platform.infra.compliance.deployability.backups import (
    BACKUP_REPLICATION,
    RESTORE_OVERRIDES,
    RESTORE_TESTING,
)
from health_platform.infra.compliance.deployability.connections import (
    DATABASE_CONNECTION_BUDGET,
)
from health_platform.infra.compliance.deployability.containers import (
    CONTAINER_WRITABLE_PATHS,
    SERVICE_ROTATING_SECRETS,
)
from health_platform.infra.compliance.deployability.data import (
    CACHE_ENGINE_FAMILY,
    REPLICA_OF_MANAGED_PASSWORD,
    REPLICA_STORAGE_PARITY,
    STORAGE_ALARM_AT_ANY_SIZE,
)
from health_platform.infra.compliance.deployability.database_auth import (
    IAM_DATABASE_SIGN_IN,
    RDS_CA_TRUSTED,
)
from health_platform.infra.compliance.deployability.edge import (
    CLOUDFRONT_LOGGING,
    CLOUDFRONT_ORIGIN_CERTIFICATE,
    CLOUDFRONT_SHARED_CACHE_KEY,
    WAF_BODY_RULES,
)
from health_platform.infra.compliance.deployability.exports import IMPORTS_OF_REPLACEABLE
from health_platform.infra.compliance.deployability.lifecycle import LIFECYCLE_ORDER
from health_platform.infra.compliance.deployability.listeners import LISTENER_TLS_POLICY
from health_platform.infra.compliance.deployability.mail import SES_SENDER_VERIFIED
from health_platform.infra.compliance.deployability.model import Environment, Rule, Violation
from health_platform.infra.compliance.deployability.network import (
    SECURITY_GROUP_RULE_WEIGHT,
    VPC_FUNCTION_REACHES_AWS,
)
from health_platform.infra.compliance.deployability.operations import (
    OUTPUTS_HP_READS,
    RELEASE_TAGS,
    TASK_LOGS,
)
from health_platform.infra.compliance.deployability.origin_ip import ORIGIN_IP
from health_platform.infra.compliance.deployability.replication import (
    IMAGE_REPLICATION,
    SECRET_REPLICAS,
)
from health_platform.infra.compliance.deployability.stopped_database import STOPPED_DATABASE_JOBS

PACK = "Deployability"
RULES: tuple[Rule, ...] = (
    SECURITY_GROUP_RULE_WEIGHT,
    VPC_FUNCTION_REACHES_AWS,
    IMPORTS_OF_REPLACEABLE,
    CLOUDFRONT_ORIGIN_CERTIFICATE,
    ORIGIN_IP,
    CLOUDFRONT_SHARED_CACHE_KEY,
    CLOUDFRONT_LOGGING,
    WAF_BODY_RULES,
    LISTENER_TLS_POLICY,
    LIFECYCLE_ORDER,
    SES_SENDER_VERIFIED,
    CONTAINER_WRITABLE_PATHS,
    SERVICE_ROTATING_SECRETS,
    IAM_DATABASE_SIGN_IN,
    RDS_CA_TRUSTED,
    DATABASE_CONNECTION_BUDGET,
    REPLICA_STORAGE_PARITY,
    REPLICA_OF_MANAGED_PASSWORD,
    STOPPED_DATABASE_JOBS,
    CACHE_ENGINE_FAMILY,
    STORAGE_ALARM_AT_ANY_SIZE,
    SNS_ENDPOINT_CONFIRMS,
    RELEASE_TAGS,
    TASK_LOGS,
    OUTPUTS_HP_READS,
    SECRET_REPLICAS,
    IMAGE_REPLICATION,
    BACKUP_REPLICATION,
    RESTORE_TESTING,
    RESTORE_OVERRIDES,
)


def check_environment(environment: Environment) -> list[Violation]:
    return [violation for rule in RULES for violation in rule.run(environment)]


__all__ = ["PACK", "RULES", "Environment", "Rule", "Violation", "check_environment"]
