"""`hp infra rehearse ENV`: every service of the environment's synthesized services stack,
rehearsed at once (each in its own network namespace, so their ports never collide)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from health_platform.contract import MIGRATION, SERVICES
from health_platform.infra import naming
from health_platform.rehearse.plan import (
    PlanError,
    check_migration_environment,
    plan,
    task_containers,
)
from health_platform.rehearse.sandbox import RehearsalResult, rehearse, require_sandbox
from health_platform.settings import EnvironmentSettings


@dataclass(frozen=True)
class ServiceRehearsal:
    service: str
    result: RehearsalResult


def rehearse_environment(settings: EnvironmentSettings, assembly: Path) -> list[ServiceRehearsal]:
    """Rehearse each service of `settings`' services stack, synthesized in `assembly`."""
    require_sandbox()
    template_file = assembly / f"{naming.stack_name(settings.name, naming.SERVICES)}.template.json"
    containers = task_containers(json.loads(template_file.read_text()))

    def one(service: str) -> ServiceRehearsal:
        if service not in containers:
            return ServiceRehearsal(
                service, _failed(f"no task definition has a {service} container")
            )
        task, container = containers[service]
        try:
            rehearsal = plan(service, task, container, settings.region)
        except PlanError as refused:
            return ServiceRehearsal(service, _failed(str(refused)))
        return ServiceRehearsal(service, rehearse(rehearsal))

    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        rehearsed = list(pool.map(one, SERVICES))
    return [*rehearsed, _migration(containers, settings.region)]


def _migration(
    containers: dict[str, tuple[dict[str, Any], dict[str, Any]]], region: str
) -> ServiceRehearsal:
    """The one-off migration task is not started (it needs a database), but its
    environment must load as the migration command's settings."""
    if MIGRATION not in containers:
        return ServiceRehearsal(MIGRATION, _failed("no task definition has a migrate container"))
    try:
        check_migration_environment(containers[MIGRATION][1], region)
    except PlanError as refused:
        return ServiceRehearsal(MIGRATION, _failed(str(refused)))
    return ServiceRehearsal(
        MIGRATION,
        RehearsalResult(
            passed=True,
            reason="its environment loads as the migration's settings (a one-off task: not run)",
            log_tail=[],
            duration_s=0.0,
        ),
    )


def _failed(reason: str) -> RehearsalResult:
    return RehearsalResult(passed=False, reason=reason, log_tail=[], duration_s=0.0)
