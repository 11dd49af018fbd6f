"""Names the outside world sees: stacks, resources, exports. Changing one is a migration."""

from __future__ import annotations

PROJECT = "health-platform"

# The parts every environment deploys, in dependency order.
NETWORK = "network"
DATA = "data"
SERVICES = "services"
OBSERVABILITY = "observability"
EDGE = "edge"
# Production only: the disaster-recovery copies, in the environment's DR region.
DISASTER_RECOVERY = "dr"

# CloudFront takes certificates and web ACLs from this region only.
CLOUDFRONT_REGION = "us-east-1"


class Output:
    """Stack outputs `hp` reads after a deployment; the stacks write them under these names."""

    # network
    PRIVATE_SUBNETS = "PrivateSubnetIds"  # comma-joined: where one-off tasks run
    # data
    DATA_KEY = "DataKeyArn"
    DATA_CLIENTS_GROUP = "DataClientsSecurityGroupId"
    DATABASE_SECRET = "DatabaseSecretArn"  # noqa: S105 - the master secret's ARN (hp dr drill)
    CACHE_AUTH_TOKEN_SECRET = "CacheAuthTokenSecretArn"  # noqa: S105 - an output's name
    # services
    MIGRATION_TASK_DEFINITION = "MigrationTaskDefinitionArn"
    MIGRATION_GROUP = "MigrationSecurityGroupId"

    @staticmethod
    def repository_uri(service: str) -> str:
        """data: a service's ECR repository URI."""
        return f"{service.capitalize()}RepositoryUri"


def stack_name(env: str, part: str) -> str:
    return f"{PROJECT}-{env}-{part}"


def resource_name(env: str, *parts: str) -> str:
    """A physical name such as `health-platform-prod-db`."""
    return "-".join((PROJECT, env, *parts))


def cluster_name(env: str) -> str:
    """The ECS cluster; its services are named after the contract's SERVICES."""
    return resource_name(env)


def database_identifier(env: str) -> str:
    return resource_name(env, "db")


def replica_identifier(env: str) -> str:
    return f"{database_identifier(env)}-replica"


def drill_database_prefix(env: str) -> str:
    """What every temporary database of `hp dr drill ENV` is named with: how a drill that
    died is found again (with its tag) and its database deleted by the next one."""
    return f"{database_identifier(env)}-drill-"


def drill_database_identifier(env: str, stamp: str) -> str:
    """A drill's temporary database; `stamp` is its start, `yyyymmddHHMMSS` in UTC."""
    return f"{drill_database_prefix(env)}{stamp}"


def office_hours_group(env: str, action: str) -> str:
    """The EventBridge Scheduler group of the schedule that stops (`action` "stop") or
    starts ("start") the database outside office hours: apart, so their failures are told
    apart (observability alarms on a failed stop only)."""
    return resource_name(env, "office-hours", action)


def cache_identifier(env: str) -> str:
    """The ElastiCache replication group."""
    return resource_name(env, "cache")


def repository_prefix(env: str) -> str:
    """The namespace of an environment's ECR repositories: what registry replication filters
    on and what the DR region's repository creation template matches."""
    return f"{PROJECT}/{env}"


def repository_name(env: str, service: str) -> str:
    """A service's ECR repository."""
    return f"{repository_prefix(env)}/{service}"


def task_family(env: str, task: str) -> str:
    """A task definition family; `task` is a service or the migration (contract.MIGRATION),
    and names the task's one container too."""
    return resource_name(env, task)


def task_log_group(env: str, task: str) -> str:
    return f"/aws/ecs/{PROJECT}-{env}/{task}"


def task_log_stream(task: str, task_id: str) -> str:
    """awslogs names a stream `<prefix>/<container>/<task id>`; our prefix is the task's name."""
    return f"{task}/{task}/{task_id}"


def bucket_name(env: str, purpose: str, account: str) -> str:
    """Bucket names are global: the account id keeps them unique and lets a stack in another
    region (the DR copies) be addressed without a lookup."""
    return f"{PROJECT}-{env}-{purpose}-{account}"


def conformance_pack_name(env: str) -> str:
    """The environment's AWS Config conformance pack (the HIPAA rules)."""
    return resource_name(env, "hipaa")


def config_rule_name(env: str, rule: str) -> str:
    """One rule of the conformance pack. Every name starts with config_rule_prefix(env),
    which is how the alert rule picks this environment's rules (AWS Config may add a
    suffix of its own to a pack's rule names)."""
    return f"{config_rule_prefix(env)}{rule}"


def config_rule_prefix(env: str) -> str:
    return f"{conformance_pack_name(env)}-"


def release_parameter(env: str, service: str) -> str:
    """The SSM parameter holding the image tag a service runs; `hp release` writes it."""
    return f"/{PROJECT}/{env}/release/{service}"


def release_history_parameter(env: str) -> str:
    """The releases of an environment, newest first (JSON); `hp release --rollback` reads it."""
    return f"/{PROJECT}/{env}/releases"


def app_secret_parameter(env: str, name: str) -> str:
    """An application secret (SecureString under the data key); `hp secrets set` writes it."""
    return f"/{PROJECT}/{env}/app/{name}"


def dr_key_alias(env: str) -> str:
    return f"alias/{PROJECT}/{env}/dr-data"


def dr_backup_vault_name(env: str) -> str:
    return f"{PROJECT}-{env}-dr"


def restore_testing_plan_name(env: str) -> str:
    """AWS Backup takes only letters, digits and underscores in a restore testing plan's name."""
    return f"{PROJECT}_{env}_database".replace("-", "_")


def deployment_order(env: str, region: str, dr_region: str | None) -> list[tuple[str, str]]:
    """(stack name, region) of an environment's stacks in the order they deploy. Kept free
    of CDK imports so `hp infra status` stays fast; a test holds it to the CDK app."""
    parts = [(NETWORK, region)]
    if dr_region:
        parts.append((DISASTER_RECOVERY, dr_region))
    parts += [
        (DATA, region),
        (SERVICES, region),
        (EDGE, CLOUDFRONT_REGION),
        (OBSERVABILITY, region),
    ]
    return [(stack_name(env, part), where) for part, where in parts]
