"""Which region a value lives in, read from the templates: an ARN's region field, the stack a
referenced resource deploys in, the region an AwsCustomResource's SDK call runs in. Copies
into another region fail when a key or a destination is in the wrong one, and nothing in a
template's schema says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import Environment, Resource, render

# The type CDK's AwsCustomResource gives its resources.
SDK_CALL = "Custom::AWS"


def arn_region(text: str) -> str | None:
    """The region field of an ARN (None when it is a reference or not an ARN at all)."""
    parts = text.split(":")
    if len(parts) < 6 or parts[0] != "arn" or "⟦" in parts[3]:
        return None
    return parts[3] or None


def sdk_call(resource: Resource) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """An AwsCustomResource's create call (service, action, parameters, region), with the
    references inside it by marker (see render)."""
    rendered = render(resource.properties.get("Create"))
    if rendered is None:
        return None
    text, references = rendered
    try:
        call = json.loads(text)
    except json.JSONDecodeError:
        return None
    return (call, references) if isinstance(call, dict) else None


def sdk_calls(
    env: Environment, action: str
) -> Iterator[tuple[Resource, dict[str, Any], dict[str, Any]]]:
    for resource in env.resources(SDK_CALL):
        found = sdk_call(resource)
        if found and str(found[0].get("action", "")).lower() == action.lower():
            yield resource, *found


def call_region(env: Environment, resource: Resource) -> str | None:
    """Where an AwsCustomResource's call runs: its own region, else its stack's."""
    found = sdk_call(resource)
    region = found[0].get("region") if found else None
    return region if isinstance(region, str) else env.regions.get(resource.stack)


def key_region(env: Environment, stack: str, value: Any) -> str | None:
    """The region of the KMS key `value` names: an ARN's, or that of the stack holding the
    key it refers to, or that of the SDK call whose answer it is (a key looked up by alias).
    None for what cannot tell (an alias name, a key id: those resolve where they are used)."""
    rendered = render(value)
    if rendered is None:
        return None
    text, references = rendered
    if text in references:
        return _referenced_region(env, stack, references[text])
    return arn_region(text)


def _referenced_region(env: Environment, stack: str, reference: Any) -> str | None:
    pointer = env.follow(stack, reference)
    if pointer is None:
        return None
    if pointer.resource.type == SDK_CALL:
        return call_region(env, pointer.resource)
    if pointer.resource.type in ("AWS::KMS::Key", "AWS::KMS::Alias"):
        return env.regions.get(pointer.resource.stack)
    return None
