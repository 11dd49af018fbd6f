"""Build the CDK app: the stacks of each environment, optionally under the compliance gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import App, Stack

from health_platform.infra.stacks.data import DataStack
from health_platform.infra.stacks.disaster_recovery import DisasterRecoveryStack
from health_platform.infra.stacks.edge import EdgeStack
from health_platform.infra.stacks.network import NetworkStack
from health_platform.infra.stacks.observability import ObservabilityStack
from health_platform.infra.stacks.services import ServicesStack
from health_platform.settings import EnvironmentSettings

# Feature flags this code relies on. They live here, not in cdk.json, so that tests and
# `hp infra synth`, which build the app in-process, see the same ones as the CDK CLI.
FEATURE_FLAGS = {
    # Grant S3 server access log delivery through a bucket policy, not an ACL, which
    # buckets with ObjectOwnership=BucketOwnerEnforced refuse.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # CDK's own template validation: its findings fail synthesis instead of scrolling by.
    "@aws-cdk/core:validateAgainstDefaultRules": True,
    # Leave DesiredCount out of ECS services whose count autoscaling manages.
    "@aws-cdk/aws-ecs:removeDefaultDesiredCount": True,
    # Merge policy statements: smaller policies, stable under reordering.
    "@aws-cdk/aws-iam:minimizePolicies": True,
}


@dataclass
class EnvironmentStacks:
    settings: EnvironmentSettings
    stacks: dict[str, Stack] = field(default_factory=dict)


def add_environment(app: App, settings: EnvironmentSettings) -> EnvironmentStacks:
    built = EnvironmentStacks(settings)
    network = NetworkStack(app, settings)
    data = DataStack(app, settings, network=network)
    services = ServicesStack(app, settings, network=network, data=data)
    observability = ObservabilityStack(app, settings, network=network, data=data, services=services)
    edge = EdgeStack(app, settings, services=services)
    built.stacks = {stack.part: stack for stack in (network, data, services, edge, observability)}
    if settings.dr_region:
        dr = DisasterRecoveryStack(app, settings, region=settings.dr_region)
        # Replication and backup copies need their destinations to exist first.
        data.add_stack_dependency(dr)
        built.stacks[dr.part] = dr
    return built


def build_app(
    environments: Sequence[EnvironmentSettings], outdir: Path | None = None
) -> tuple[App, list[EnvironmentStacks]]:
    app = App(
        outdir=str(outdir) if outdir else None,
        context=FEATURE_FLAGS,
        analytics_reporting=False,  # no CDK metadata resource: templates stay deterministic
    )
    return app, [add_environment(app, env) for env in environments]
