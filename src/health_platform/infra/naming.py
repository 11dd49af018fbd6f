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


def stack_name(env: str, part: str) -> str:
    return f"{PROJECT}-{env}-{part}"


def resource_name(env: str, *parts: str) -> str:
    """A physical name such as `health-platform-prod-db`."""
    return "-".join((PROJECT, env, *parts))


def bucket_name(env: str, purpose: str, account: str) -> str:
    """Bucket names are global: the account id keeps them unique and lets a stack in another
    region (the DR copies) be addressed without a lookup."""
    return f"{PROJECT}-{env}-{purpose}-{account}"


def dr_key_alias(env: str) -> str:
    return f"alias/{PROJECT}/{env}/dr-data"


def dr_backup_vault_name(env: str) -> str:
    return f"{PROJECT}-{env}-dr"
