"""`hp infra plan | apply | destroy`: synthesize, then hand the assembly to the CDK CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from health_platform.contract import APP_SECRETS, SERVICES
from health_platform.errors import InvalidInputError, RefusedError
from health_platform.infra import naming
from health_platform.ops.aws import (
    ClientFactory,
    aws_errors,
    boto_clients,
    require_credentials,
    stack_missing,
)
from health_platform.ops.cdk_cli import cdk_command, run_cdk
from health_platform.ops.upgrades import refuse_unsafe_steps
from health_platform.settings import EnvironmentSettings

Confirm = Callable[[str], bool]
Synthesize = Callable[[Sequence[EnvironmentSettings], Path], list[str]]


def stacks_in_order(settings: EnvironmentSettings, parts: Sequence[str] | None = None) -> list[str]:
    """The environment's stack names in deployment order, narrowed to `parts` if given."""
    order = naming.deployment_order(settings.name, settings.region, settings.dr_region)
    by_part = {name.removeprefix(f"{naming.PROJECT}-{settings.name}-"): name for name, _ in order}
    if not parts:
        return list(by_part.values())
    unknown = [p for p in parts if p not in by_part]
    if unknown:
        raise InvalidInputError(
            f"Unknown stack part {', '.join(map(repr, unknown))}; {settings.name} has"
            f" {', '.join(by_part)}."
        )
    return [name for part, name in by_part.items() if part in parts]


def parts_before_services(settings: EnvironmentSettings) -> list[str]:
    """The parts a first deployment applies before the services can be (in production the
    disaster-recovery stack too: the data stack replicates into it)."""
    prefix = f"{naming.PROJECT}-{settings.name}-"
    order = [name.removeprefix(prefix) for name in stacks_in_order(settings)]
    return order[: order.index(naming.SERVICES)]


def changes_data(settings: EnvironmentSettings, parts: Sequence[str] | None) -> bool:
    """Whether an apply of `parts` (all when None) deploys the data stack: the database's."""
    return naming.stack_name(settings.name, naming.DATA) in stacks_in_order(settings, parts)


def changes_services(settings: EnvironmentSettings, parts: Sequence[str] | None) -> bool:
    """Whether applying `parts` (all when None) updates the services stack."""
    return naming.stack_name(settings.name, naming.SERVICES) in stacks_in_order(settings, parts)


def required_parameters(env: str) -> list[str]:
    """The SSM parameters the services stack reads: the image tags at deploy time, the
    application secrets when a task starts (a missing one fails the task only after a
    long rollback, with ResourceInitializationError)."""
    return [naming.release_parameter(env, service) for service in SERVICES] + [
        naming.app_secret_parameter(env, secret) for secret in APP_SECRETS
    ]


def missing_parameters(settings: EnvironmentSettings, clients: ClientFactory) -> list[str]:
    """The parameters of required_parameters() that do not exist."""
    names = required_parameters(settings.name)
    ssm = clients("ssm", settings.region)
    with aws_errors("read the release and secret parameters"):
        present = {p["Name"] for p in ssm.get_parameters(Names=names)["Parameters"]}
    return [name for name in names if name not in present]


def retained_resources(assembly: Path, stacks: Sequence[str]) -> list[str]:
    """'<stack>: <type> <logical id>' for every resource CloudFormation keeps on deletion."""
    kept = []
    for stack in stacks:
        template = json.loads((assembly / f"{stack}.template.json").read_text())
        for logical_id, resource in template["Resources"].items():
            if resource.get("DeletionPolicy") == "Retain":
                kept.append(f"{stack}: {resource['Type']} {logical_id}")
    return kept


def bootstrap_targets(settings: EnvironmentSettings) -> list[str]:
    """`aws://ACCOUNT/REGION` of every region the environment's stacks deploy to: its own,
    the edge's (CloudFront's us-east-1) and, in production, the DR region."""
    regions = {
        region
        for _, region in naming.deployment_order(settings.name, settings.region, settings.dr_region)
    }
    return [f"aws://{settings.account}/{region}" for region in sorted(regions)]


def bootstrap(settings: EnvironmentSettings, assembly: Path, synthesize: Synthesize) -> list[str]:
    """The CDK's bootstrap (its staging bucket, roles and version parameter) in each of the
    environment's regions, once per account and region, before the first `apply`."""
    require_credentials(boto3.Session())
    synthesize([settings], assembly)
    targets = bootstrap_targets(settings)
    run_cdk(
        # Termination protection: deleting the bootstrap stack breaks every later deploy.
        cdk_command(assembly, "bootstrap", targets, "--termination-protection"),
        failure=f"Bootstrapping {settings.name}'s regions failed; the reason is above.",
    )
    return targets


def plan(settings: EnvironmentSettings, assembly: Path, synthesize: Synthesize) -> None:
    require_credentials(boto3.Session())
    synthesize([settings], assembly)
    run_cdk(
        cdk_command(assembly, "diff", stacks_in_order(settings)),
        failure=f"`cdk diff` failed for {settings.name}; its output above says why.",
    )


def apply(
    settings: EnvironmentSettings,
    assembly: Path,
    synthesize: Synthesize,
    *,
    parts: Sequence[str] | None,
    confirm: Confirm,
) -> list[str]:
    """Deploy the environment's stacks (or `parts` of them) in order; return their names."""
    stacks = stacks_in_order(settings, parts)
    session = boto3.Session()
    require_credentials(session)
    if naming.stack_name(settings.name, naming.SERVICES) in stacks:
        refuse_unsafe_steps(settings, boto_clients(session))
        missing = missing_parameters(settings, boto_clients(session))
        if missing:
            env = settings.name
            raise InvalidInputError(
                f"{env} is not ready for its services: {', '.join(missing)} missing. After"
                f" `hp infra apply {env} --stacks {','.join(parts_before_services(settings))}`,"
                f" run `hp secrets set {env}"
                f" session-secret --generate` and `hp release {env}`, then retry"
                " (docs/operations.md: the first deployment)."
            )
    if settings.is_production and not confirm(
        f"Deploy {len(stacks)} stack(s) to PRODUCTION ({settings.account})?"
    ):
        raise RefusedError("Nothing deployed.")
    synthesize([settings], assembly)
    options = ["--require-approval", "never", "--progress", "events"]
    if parts:
        options.append("--exclusively")  # exactly the stacks asked for, not their dependencies
    run_cdk(
        cdk_command(assembly, "deploy", stacks, *options),
        failure=f"Deploying {settings.name} failed; the failing resource and its reason are above.",
    )
    return stacks


def destroy(
    settings: EnvironmentSettings,
    assembly: Path,
    synthesize: Synthesize,
    *,
    confirm: Confirm,
    announce: Callable[[list[str]], None],
) -> list[str]:
    """Delete the environment's stacks in reverse order; return what stays behind."""
    if settings.is_production:
        raise RefusedError(f"`hp infra destroy` refuses production ({settings.name}).")
    session = boto3.Session()
    require_credentials(session)
    synthesize([settings], assembly)
    stacks = stacks_in_order(settings)
    kept = retained_resources(assembly, stacks)
    announce(kept)
    question = (
        f"Destroy {len(stacks)} stack(s) of {settings.name}? {len(kept)} stateful resource(s)"
        " are retained (listed above) and keep costing until deleted by hand."
    )
    if not confirm(question):
        raise RefusedError("Nothing destroyed.")
    with aws_errors(f"lift termination protection on {settings.name}"):
        for name, region in naming.deployment_order(
            settings.name, settings.region, settings.dr_region
        ):
            cloudformation = session.client("cloudformation", region_name=region)
            if _exists(cloudformation, name):
                cloudformation.update_termination_protection(
                    StackName=name, EnableTerminationProtection=False
                )
    run_cdk(
        cdk_command(assembly, "destroy", list(reversed(stacks)), "--force"),
        failure=f"Destroying {settings.name} failed; the reason is above.",
    )
    return kept


def _exists(cloudformation: object, name: str) -> bool:
    try:
        cloudformation.describe_stacks(StackName=name)  # type: ignore[attr-defined]
    except ClientError as missing:
        if stack_missing(missing):
            return False
        raise
    return True
