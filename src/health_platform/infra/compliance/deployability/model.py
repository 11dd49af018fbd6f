"""The synthesized templates of one environment, read as one graph: a rule asks for
resources by type and follows references across stacks (Ref, GetAtt, and the exports
that Fn::ImportValue names), because what AWS checks at deploy time often spans stacks
(a security group here, its ingress rule there)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Template = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    type: str
    properties: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class Pointer:
    """What a reference points at: a resource, and the attribute asked for (None: Ref)."""

    resource: Resource
    attribute: str | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    stack: str
    location: str
    message: str


@dataclass(frozen=True)
class Rule:
    """One class of defect that AWS reports only at deploy or run time."""

    id: str
    title: str
    source: str  # where AWS documents the behaviour
    check: Callable[[Environment], Iterable[tuple[Resource, str]]]

    def run(self, environment: Environment) -> list[Violation]:
        return [
            Violation(self.id, resource.stack, resource.logical_id, message)
            for resource, message in self.check(environment)
        ]


@dataclass
class Environment:
    """Every template of one environment, and where the images' Dockerfiles are."""

    templates: dict[str, Template]
    # The Dockerfile each container's image is built from, by container name.
    dockerfiles: dict[str, Path]
    # The weight (entries counted against a security group's quota) of each prefix list
    # the environment names; customer-managed lists in the templates weigh MaxEntries.
    prefix_list_weights: dict[str, int]
    # Where each stack deploys, the environment's account and disaster-recovery region: a
    # template does not say its own region, and rules about copies in another region need it.
    regions: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    dr_region: str | None = None
    _exports: dict[str, tuple[str, Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    self._exports[name] = (stack, output["Value"])

    @classmethod
    def from_files(
        cls,
        files: Iterable[Path],
        dockerfiles: dict[str, Path],
        weights: dict[str, int],
        *,
        regions: dict[str, str] | None = None,
        account: str | None = None,
        dr_region: str | None = None,
    ) -> Environment:
        templates = {
            path.name.removesuffix(".template.json"): json.loads(path.read_text()) for path in files
        }
        return cls(templates, dockerfiles, weights, regions or {}, account, dr_region)

    def resources(self, *types: str) -> Iterator[Resource]:
        """The resources of these types (of every type: none named)."""
        for stack, template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if not types or resource.get("Type") in types:
                    yield Resource(
                        stack, logical_id, resource["Type"], resource.get("Properties", {})
                    )

    def resource(self, stack: str, logical_id: str) -> Resource | None:
        found = self.templates.get(stack, {}).get("Resources", {}).get(logical_id)
        if found is None:
            return None
        return Resource(stack, logical_id, found["Type"], found.get("Properties", {}))

    def follow(self, stack: str, value: Any) -> Pointer | None:
        """The resource a value refers to (through exports across stacks), or None for a
        literal or anything else."""
        if not isinstance(value, dict) or len(value) != 1:
            return None
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            found = self.resource(stack, argument)
            return Pointer(found) if found else None
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            found = self.resource(stack, logical_id)
            return Pointer(found, attribute) if found else None
        if function == "Fn::ImportValue" and isinstance(argument, str):
            exported = self._exports.get(argument)
            return self.follow(*exported) if exported else None
        return None

    def same(self, stack: str, value: Any, resource: Resource) -> bool:
        """Whether `value` (in `stack`) refers to `resource`."""
        pointer = self.follow(stack, value)
        return pointer is not None and pointer.resource == resource

    def pointers_in(self, stack: str, value: Any) -> Iterator[Pointer]:
        """Every reference anywhere inside `value` (an Fn::Join of an ARN and a JSON key,
        say), followed."""
        pointer = self.follow(stack, value)
        if pointer is not None:
            yield pointer
        elif isinstance(value, dict):
            for item in value.values():
                yield from self.pointers_in(stack, item)
        elif isinstance(value, list):
            for item in value:
                yield from self.pointers_in(stack, item)

    def secrets_named(self, stack: str, value: Any) -> list[Resource]:
        """The Secrets Manager secrets a value names, also through a target attachment (CDK's
        database credentials reach tasks and rotation schedules through one)."""
        found = []
        for pointer in self.pointers_in(stack, value):
            resource = pointer.resource
            if resource.type == "AWS::SecretsManager::SecretTargetAttachment":
                found += self.secrets_named(resource.stack, resource.properties.get("SecretId"))
            elif resource.type == "AWS::SecretsManager::Secret":
                found.append(resource)
        return found


def literal(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def render(value: Any) -> tuple[str, dict[str, Any]] | None:
    """A string property as text, each reference inside it (what Fn::Join joins around, the
    ${...} of Fn::Sub) replaced by a marker such as ⟦0⟧, returned with the references by
    marker: JSON that CDK writes with tokens in it (an AwsCustomResource's call, a restore
    override) parses, and its values can still be followed. None for anything else."""
    references: dict[str, Any] = {}

    def marker(reference: Any) -> str:
        name = f"⟦{len(references)}⟧"
        references[name] = reference
        return name

    def text(item: Any) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and len(item) == 1:
            ((function, argument),) = item.items()
            if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
                separator, parts = argument
                return str(separator).join(text(part) for part in parts)
            if function == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: marker(_sub_reference(m[1])), argument)
        return marker(item)

    if not isinstance(value, (str, dict)):
        return None
    return text(value), references


def _sub_reference(name: str) -> dict[str, Any]:
    if "." in name:
        return {"Fn::GetAtt": name.split(".", 1)}
    return {"Ref": name}
