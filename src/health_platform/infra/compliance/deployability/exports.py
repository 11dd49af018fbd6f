"""What one stack imports from another: CloudFormation will not change or delete an export
while another stack imports it, so a resource whose usual changes replace it (a target
group: its protocol, port, target type or VPC) must not be imported elsewhere. Its first
replacement would fail the exporting stack's update ("Cannot update export ... as it is in
use by ...") and leave the change undeployable until the importing stack lets go, which
it cannot do first when it needs the new value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import Environment, Resource, Rule

# Resources replaced by changes this platform makes (a target group's protocol: issue 16).
REPLACED_ON_CHANGE = ("AWS::ElasticLoadBalancingV2::TargetGroup",)


def _imports(value: Any) -> Iterator[str]:
    """The export names a value imports, anywhere inside it."""
    if isinstance(value, dict):
        if set(value) == {"Fn::ImportValue"} and isinstance(value["Fn::ImportValue"], str):
            yield value["Fn::ImportValue"]
            return
        for item in value.values():
            yield from _imports(item)
    elif isinstance(value, list):
        for item in value:
            yield from _imports(item)


def _check(env: Environment) -> Iterator[tuple[Resource, str]]:
    for importer in env.resources():
        for name in _imports(importer.properties):
            pointer = env.follow(importer.stack, {"Fn::ImportValue": name})
            if pointer is None or pointer.resource.type not in REPLACED_ON_CHANGE:
                continue
            exported = pointer.resource
            yield (
                importer,
                (
                    f"imports {exported.type.rsplit('::', 1)[-1]} {exported.where}"
                    f"{'.' + pointer.attribute if pointer.attribute else ''}: its replacement"
                    " fails the exporting stack's update while this stack imports it; keep"
                    " the reference in one stack (or query by a stable dimension)"
                ),
            )


IMPORTS_OF_REPLACEABLE = Rule(
    "HP-IMPORT-OF-REPLACEABLE",
    "No stack imports an attribute of a resource that its usual changes replace",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html",
    _check,
)
