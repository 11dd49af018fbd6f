"""What `hp`'s day-2 commands rely on in the templates, which neither CloudFormation nor
ECS checks, so a refactor of the stacks could break them only on the day they are needed:

- `hp release` sets an image's tag in SSM and updates the services stack with its own
  template: the tag reaches a task only if the task's image reads it from an SSM-typed
  parameter whose default is that release parameter (CloudFormation resolves those on
  every update; a plain parameter keeps its old value).
- `hp db migrate`, `hp users create-admin` and `hp logs` find a task's log stream as
  awslogs names it, `<prefix>/<container>/<task id>` in the group `hp` expects, so the
  prefix must be the container's name and the family and group `naming`'s.
- The one-off tasks, the secrets, the release and the DR drill read stacks' outputs by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.contract import SERVICES
from health_platform.infra import naming
from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule

SSM_TYPE = "AWS::SSM::Parameter::Value<String>"
# The outputs `hp` reads, by the part whose stack writes them.
OUTPUTS_READ = {
    naming.NETWORK: (naming.Output.PRIVATE_SUBNETS,),
    naming.DATA: (
        naming.Output.DATA_KEY,
        naming.Output.DATA_CLIENTS_GROUP,
        naming.Output.DATABASE_SECRET,
        naming.Output.CACHE_AUTH_TOKEN_SECRET,
        *(naming.Output.repository_uri(service) for service in SERVICES),
    ),
    naming.SERVICES: (naming.Output.MIGRATION_TASK_DEFINITION, naming.Output.MIGRATION_GROUP),
}


def _env_and_part(stack: str) -> tuple[str, str] | None:
    """(environment, part) of one of the project's stacks (naming.stack_name); None for
    any other template."""
    if not stack.startswith(f"{naming.PROJECT}-"):
        return None
    env, _, part = stack.removeprefix(f"{naming.PROJECT}-").rpartition("-")
    return env, part


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def _containers(env: Environment) -> Iterator[tuple[str, Resource, dict[str, Any]]]:
    """(environment, task definition, container) of the project's stacks' tasks."""
    for task in env.resources("AWS::ECS::TaskDefinition"):
        named = _env_and_part(task.stack)
        if named is None:
            continue
        for container in task.properties.get("ContainerDefinitions", []):
            yield named[0], task, container


def _release_tags(env: Environment) -> Iterator[tuple[Resource, str]]:
    for environment, task, container in _containers(env):
        name = container.get("Name")
        parameters = env.templates[task.stack].get("Parameters", {})
        read = {
            parameters[ref].get("Default")
            for ref in _refs(container.get("Image"))
            if parameters.get(ref, {}).get("Type") == SSM_TYPE
        }
        released = {naming.release_parameter(environment, service) for service in SERVICES}
        if not read & released:
            yield (
                task,
                f"container {name}'s image tag is not read from a release parameter"
                f" ({', '.join(sorted(released))}) through an {SSM_TYPE} parameter:"
                " `hp release` would set a tag this stack never reads",
            )


def _task_logs(env: Environment) -> Iterator[tuple[Resource, str]]:
    for environment, task, container in _containers(env):
        name = str(container.get("Name"))
        if task.properties.get("Family") != naming.task_family(environment, name):
            yield (
                task,
                f"the family of container {name}'s task is {task.properties.get('Family')!r},"
                f" not {naming.task_family(environment, name)!r}: hp names tasks by container",
            )
        options = container.get("LogConfiguration", {}).get("Options", {})
        if options.get("awslogs-stream-prefix") != name:
            yield (
                task,
                f"container {name} logs under the stream prefix"
                f" {options.get('awslogs-stream-prefix')!r}: `hp logs` and the one-off tasks"
                f" read `{naming.task_log_stream(name, '<task id>')}`",
            )
        group = env.follow(task.stack, options.get("awslogs-group"))
        expected = naming.task_log_group(environment, name)
        if group is None or group.resource.properties.get("LogGroupName") != expected:
            yield task, f"container {name} does not log to the group {expected} that hp reads"


def _outputs(env: Environment) -> Iterator[tuple[Resource, str]]:
    for stack, template in env.templates.items():
        named = _env_and_part(stack)
        wanted = OUTPUTS_READ.get(named[1], ()) if named else ()
        missing = [o for o in wanted if o not in template.get("Outputs", {})]
        if missing:
            outputs = Resource(stack, "Outputs", "AWS::CloudFormation::Stack", {})
            yield outputs, f"the outputs hp reads are missing: {', '.join(missing)}"


RELEASE_TAGS = Rule(
    "HP-OPS-RELEASE-TAGS",
    "Each task's image tag is read from its release parameter, re-resolved on every update",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html",
    _release_tags,
)
TASK_LOGS = Rule(
    "HP-OPS-TASK-LOGS",
    "Each task's family, log group and stream prefix are the names hp reads",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
    _task_logs,
)
OUTPUTS_HP_READS = Rule(
    "HP-OPS-OUTPUTS",
    "The stacks write every output hp reads",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html",
    _outputs,
)
