"""`hp doctor ENV`: the runbook's Troubleshooting section run against AWS, one verdict per
check, each not-pass with the command or action that fixes it.

What it looks at: the stacks; the release parameters and application secrets; each
service's tasks, rollout and the tasks that stopped in the last hour (with why); each
running task definition (read-only root, a user, awslogs, the released image) and its
image's scan findings; target health; the security-group path from the backend to the
database and the cache; the database (status, connections, free storage), the cache;
the load balancer's 5xx and latency; alarms in ALARM; the certificates.

Checks are independent: one that AWS refuses, or that breaks, is that check's failure and
the others still run (health_platform.checks.guarded). What several checks read (the
services, their task definitions, the parameters, the database, the cache) is read once
(environment.Environment). Each group of checks is a module of its own; this one runs them
in the order a person would look.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from health_platform.checks import Check, guarded
from health_platform.ops.aws import ClientFactory, aws_errors
from health_platform.ops.doctor.alarms import check_alarms
from health_platform.ops.doctor.certificates import check_certificates
from health_platform.ops.doctor.data_tier import check_cache, check_databases
from health_platform.ops.doctor.environment import Environment
from health_platform.ops.doctor.images import check_image_scans, check_released_images
from health_platform.ops.doctor.load_balancer import check_load_balancer, check_targets
from health_platform.ops.doctor.network import check_network
from health_platform.ops.doctor.parameters import check_parameters
from health_platform.ops.doctor.services import check_services, check_stopped_tasks
from health_platform.ops.doctor.stacks import check_stacks
from health_platform.ops.doctor.task_definitions import check_task_definitions
from health_platform.settings import EnvironmentSettings

Checker = Callable[[Environment], list[Check]]


def run_doctor(
    settings: EnvironmentSettings, clients: ClientFactory, now: datetime | None = None
) -> list[Check]:
    """Every check of the environment, in the order a person would look."""
    found = Environment(settings, clients, now or datetime.now(UTC))
    rerun = f"use credentials that may read it, then run `hp doctor {settings.name}` again"
    checks: list[Check] = []
    for component, name, checker in CHECKS:
        checks += guarded(component, name, partial(_read, checker, found, component), rerun)
    return checks


def _read(checker: Checker, found: Environment, component: str) -> list[Check]:
    with aws_errors(f"read the {component}"):
        return checker(found)


# The order a person would look in: what is deployed, what it needs, how it runs, what
# the load balancer sees, the data tier, then what has already alerted and the edge.
CHECKS: tuple[tuple[str, str, Checker], ...] = (
    ("stacks", "deployed", check_stacks),
    ("parameters", "present", check_parameters),
    ("services", "running", check_services),
    ("services", "stopped tasks", check_stopped_tasks),
    ("services", "task definitions", check_task_definitions),
    ("services", "released images", check_released_images),
    ("services", "image scans", check_image_scans),
    ("services", "targets", check_targets),
    ("network", "data tier path", check_network),
    ("database", "status", check_databases),
    ("cache", "status", check_cache),
    ("load balancer", "traffic", check_load_balancer),
    ("alarms", "in ALARM", check_alarms),
    ("certificate", "status", check_certificates),
)


__all__ = ["run_doctor"]
