"""`hp infra rehearse ENV`: every service of the environment's synthesized services stack,
rehearsed at once (each in its own network namespace, so their ports never collide)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from health_platform.contract import SERVICES
from health_platform.infra import naming
from health_platform.rehearse.plan import PlanError, plan, service_containers
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
    containers = service_containers(json.loads(template_file.read_text()))

    def one(service: str) -> ServiceRehearsal:
        if service not in containers:
            return ServiceRehearsal(service, _failed(f"no ECS service runs a {service} container"))
        task, container = containers[service]
        try:
            rehearsal = plan(service, task, container, settings.region)
        except PlanError as refused:
            return ServiceRehearsal(service, _failed(str(refused)))
        return ServiceRehearsal(service, rehearse(rehearsal))

    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        return list(pool.map(one, SERVICES))


def _failed(reason: str) -> RehearsalResult:
    return RehearsalResult(passed=False, reason=reason, log_tail=[], duration_s=0.0)
