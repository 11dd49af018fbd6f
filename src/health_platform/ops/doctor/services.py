"""Each service's tasks and rollout, and the tasks that stopped in the last hour (with
why)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from health_platform.checks import Check
from health_platform.contract import SERVICES
from health_platform.ops.doctor.environment import Environment
from health_platform.ops.stopped_tasks import stopped_at, stopped_tasks, why_stopped

# ECS lists a stopped task for at least an hour; older ones may already be gone.
STOPPED_WINDOW = timedelta(hours=1)
# Stop codes of a task that did not stop because the scheduler or a person wanted it to.
FAILED_STOPS = frozenset({"TaskFailedToStart", "EssentialContainerExited"})


def check_services(e: Environment) -> list[Check]:
    if e.services is None:
        return [Check("services", "cluster", "fail", f"{e.cluster} does not exist", e.apply_hint)]
    checks = []
    for name in SERVICES:
        service = e.services.get(name)
        if service is None:
            detail = f"no active {name} service in {e.cluster}"
            checks.append(Check(name, "service", "fail", detail, e.apply_hint))
            continue
        checks += [_task_counts(e, name, service), _rollout(e, name, service)]
    return checks


def _task_counts(e: Environment, name: str, service: dict[str, Any]) -> Check:
    desired, running = service["desiredCount"], service["runningCount"]
    detail = f"{running} running of {desired} desired, {service.get('pendingCount', 0)} pending"
    if desired == 0:
        return Check(name, "tasks", "warn", f"{detail}: nothing asked to run", e.apply_hint)
    if running == 0:
        return Check(name, "tasks", "fail", detail, e.logs_hint(name))
    if running < desired:
        return Check(name, "tasks", "warn", detail, e.logs_hint(name))
    return Check(name, "tasks", "pass", detail)


def _rollout(e: Environment, name: str, service: dict[str, Any]) -> Check:
    primary: dict[str, Any] = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
    )
    state, reason = primary.get("rolloutState", ""), primary.get("rolloutStateReason", "")
    detail = f"{state or 'no rollout state'}" + (f": {reason}" if reason else "")
    if state == "FAILED":
        return Check(name, "rollout", "fail", detail, e.logs_hint(name))
    if state == "IN_PROGRESS":
        hint = f"wait for it (`hp status {e.env}`); if it stays, `{e.logs_hint(name)}`"
        return Check(name, "rollout", "warn", detail, hint)
    return Check(name, "rollout", "pass", detail)


def check_stopped_tasks(e: Environment) -> list[Check]:
    """Tasks of each service that stopped in the last hour for another reason than a
    deployment, scaling or a Spot interruption, with ECS's reason and the exit codes."""
    ecs = e.client("ecs")
    since = e.now - STOPPED_WINDOW
    checks = []
    for name in e.running():
        tasks = [t for t in stopped_tasks(ecs, e.cluster, name) if stopped_at(t) >= since]
        failed = [t for t in tasks if _failed(t)]  # newest first, as listed
        normal = len(tasks) - len(failed)
        if not failed:
            detail = f"none failed in the last hour ({normal} stopped by ECS or a person)"
            checks.append(Check(name, "stopped tasks", "pass", detail))
            continue
        shown = "; ".join(why_stopped(task) for task in failed[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        detail = f"{len(failed)} failed in the last hour: {shown}{more}"
        checks.append(Check(name, "stopped tasks", "fail", detail, _stop_hint(e, name, failed)))
    return checks


def _failed(task: dict[str, Any]) -> bool:
    if task.get("stopCode") in FAILED_STOPS:
        return True
    if any(c.get("exitCode") not in (None, 0) for c in task.get("containers", [])):
        return True
    # The scheduler replaces a task that fails its health checks (ServiceSchedulerInitiated).
    return "health check" in task.get("stoppedReason", "").lower()


def _stop_hint(e: Environment, name: str, failed: Sequence[dict[str, Any]]) -> str:
    reasons = " ".join(
        " ".join(
            [t.get("stoppedReason", ""), *(c.get("reason", "") for c in t.get("containers", []))]
        )
        for t in failed
    )
    if "CannotPullContainerError" in reasons:
        return f"the image cannot be pulled: push it again with `hp release {e.env}`"
    if "ResourceInitializationError" in reasons:
        return (
            "a secret or the image could not be fetched at start: see the parameters checks"
            f" (`hp secrets set {e.env} <name>`), then `{e.logs_hint(name)}`"
        )
    return e.logs_hint(name)
