"""`hp infra rehearse`: the synthesized task definitions run in a sandbox as Fargate would.
The services pass as synthesized (make test also runs `hp infra rehearse dev`); the
defects the rehearsal exists for make them fail."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from typing import Any

import pytest

from health_platform.contract import BACKEND, FRONTEND, ApiSettings, env_name
from health_platform.infra.naming import SERVICES
from health_platform.paths import REPO
from health_platform.rehearse.plan import PlanError, plan, task_containers
from health_platform.rehearse.sandbox import rehearse
from tests.infra.conftest import Synthesis

needs_sandbox = pytest.mark.skipif(
    shutil.which("bwrap") is None or not (REPO / "frontend" / "dist" / "index.html").exists(),
    reason="needs bubblewrap and the built frontend (make test installs and builds both)",
)


def containers(synthesis: Synthesis) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return copy.deepcopy(task_containers(synthesis.raw("dev", SERVICES)))


def test_the_backend_task_gives_only_variables_the_api_reads(synthesis: Synthesis) -> None:
    _, container = containers(synthesis)[BACKEND]
    given = {v["Name"] for v in container["Environment"]} | {
        s["Name"] for s in container["Secrets"]
    }
    readable = {env_name(field) for field in ApiSettings.model_fields}
    assert given <= readable
    rehearsal = plan(BACKEND, *containers(synthesis)[BACKEND], region="us-east-1")
    assert rehearsal.environment["DATABASE_AUTH"] == "iam"


def test_a_variable_the_api_does_not_read_is_refused(synthesis: Synthesis) -> None:
    task, container = containers(synthesis)[BACKEND]
    container["Environment"].append({"Name": "PORT", "Value": "5000"})
    with pytest.raises(PlanError, match="sets PORT, which the API does not read"):
        plan(BACKEND, task, container, region="us-east-1")


def test_a_missing_required_setting_is_refused(synthesis: Synthesis) -> None:
    task, container = containers(synthesis)[BACKEND]
    container["Secrets"] = [s for s in container["Secrets"] if s["Name"] != "SESSION_SECRET"]
    with pytest.raises(PlanError, match="the API refuses its environment"):
        plan(BACKEND, task, container, region="us-east-1")


@needs_sandbox
def test_a_volume_fargate_mounts_root_owned_stops_the_frontend(synthesis: Synthesis) -> None:
    # As before frontend/Dockerfile declared its VOLUME: Fargate's root-owned 0755 /tmp,
    # where nginx writes its pid and temporary files at start. (The API writes /tmp only
    # when it spools an upload, after its health check: the gate's HP-ECS-WRITABLE-PATHS
    # rule reads the Dockerfile for both.)
    rehearsal = plan(FRONTEND, *containers(synthesis)[FRONTEND], region="us-east-1")
    undeclared = dataclasses.replace(
        rehearsal, volume_owners={}, health_interval_s=0.5, health_start_period_s=5.0
    )
    result = rehearse(undeclared)
    assert not result.passed, result
    assert "Permission denied" in "\n".join(result.log_tail)


@needs_sandbox
def test_the_services_pass_as_synthesized(synthesis: Synthesis) -> None:
    for service in (FRONTEND, BACKEND):
        rehearsal = plan(service, *containers(synthesis)[service], region="us-east-1")
        result = rehearse(dataclasses.replace(rehearsal, health_interval_s=0.5))
        assert result.passed, (service, result.reason, result.log_tail)
