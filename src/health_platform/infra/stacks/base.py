"""What every stack of an environment shares: its name, account, region and tags."""

from __future__ import annotations

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from health_platform.infra import naming
from health_platform.settings import EnvironmentSettings


class PlatformStack(Stack):
    part: str = ""

    def __init__(
        self,
        scope: Construct,
        settings: EnvironmentSettings,
        *,
        region: str | None = None,
        termination_protection: bool = False,
        description: str,
    ) -> None:
        name = naming.stack_name(settings.name, self.part)
        super().__init__(
            scope,
            name,
            stack_name=name,
            # Account and region come from the environment file, never from a lookup, so
            # synthesis is offline and the same on every machine.
            env=Environment(account=settings.account, region=region or settings.region),
            termination_protection=termination_protection,
            description=f"health-platform {settings.name}: {description}",
        )
        self.settings = settings
        Tags.of(self).add("Project", naming.PROJECT)
        Tags.of(self).add("Environment", settings.name)
        Tags.of(self).add("Component", self.part)
