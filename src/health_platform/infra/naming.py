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


def stack_name(env: str, part: str) -> str:
    return f"{PROJECT}-{env}-{part}"


def resource_name(env: str, *parts: str) -> str:
    """A physical name such as `health-platform-prod-db`."""
    return "-".join((PROJECT, env, *parts))


def bucket_name(env: str, purpose: str, account: str) -> str:
    """Bucket names are global: the account id keeps them unique and lets a stack in another
    region (the DR copies) be addressed without a lookup."""
    return f"{PROJECT}-{env}-{purpose}-{account}"


def release_parameter(env: str, service: str) -> str:
    """The SSM parameter holding the image tag a service runs; `hp release` writes it."""
    return f"/{PROJECT}/{env}/release/{service}"


def app_secret_parameter(env: str, name: str) -> str:
    """An application secret (SecureString under the data key); `hp secrets set` writes it."""
    return f"/{PROJECT}/{env}/app/{name}"


def dr_key_alias(env: str) -> str:
    return f"alias/{PROJECT}/{env}/dr-data"


def dr_backup_vault_name(env: str) -> str:
    return f"{PROJECT}-{env}-dr"


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
