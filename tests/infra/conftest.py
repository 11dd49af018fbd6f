"""Synthesis is slow (a Node process behind jsii), so every environment is synthesized once
per test session, under the compliance gate, and the tests read the result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from health_platform.infra.toolchain import prepare_cdk_runtime

prepare_cdk_runtime()

from aws_cdk.assertions import Template  # noqa: E402

from health_platform.infra.compliance.check import StackReport, run_check  # noqa: E402
from health_platform.infra.naming import stack_name  # noqa: E402
from health_platform.settings import EnvironmentSettings, load_environments  # noqa: E402

ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass
class Synthesis:
    outdir: Path
    environments: dict[str, EnvironmentSettings]
    reports: dict[str, StackReport]

    def raw(self, env: str, part: str) -> dict[str, Any]:
        path = self.outdir / f"{stack_name(env, part)}.template.json"
        return json.loads(path.read_text())  # type: ignore[no-any-return]

    def template(self, env: str, part: str) -> Template:
        return Template.from_json(self.raw(env, part))

    def resources(self, env: str, part: str, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.raw(env, part)["Resources"].items()
            if resource["Type"] == kind
        }

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.outdir / "manifest.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    outdir = tmp_path_factory.mktemp("cdk.out")
    environments = load_environments(list(ENVIRONMENTS))
    reports = run_check(environments, outdir)
    return Synthesis(
        outdir=outdir,
        environments={env.name: env for env in environments},
        reports={report.stack: report for report in reports},
    )


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return str(request.param)
