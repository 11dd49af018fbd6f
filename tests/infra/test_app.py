"""The CDK app and the CDK-free deployment order (used by status, apply, destroy) agree."""

from __future__ import annotations

from health_platform.infra.naming import deployment_order
from tests.infra.conftest import Synthesis


def test_deployment_order_matches_the_app(synthesis: Synthesis, env: str) -> None:
    settings = synthesis.environments[env]
    order = deployment_order(env, settings.region, settings.dr_region)
    artifacts = synthesis.manifest()["artifacts"]
    stacks = {
        name: artifact
        for name, artifact in artifacts.items()
        if artifact["type"] == "aws:cloudformation:stack"
        and name.startswith(f"health-platform-{env}-")
    }
    assert {name for name, _ in order} == set(stacks)
    position = {name: index for index, (name, _) in enumerate(order)}
    for name, region in order:
        assert stacks[name]["environment"] == f"aws://{settings.account}/{region}"
        for dependency in stacks[name].get("dependencies", []):
            if dependency in position:
                assert position[dependency] < position[name], f"{name} before {dependency}"
