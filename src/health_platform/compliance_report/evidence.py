"""Evidence read from synthesized templates: a probe names a resource type and a property,
and says what value counts; running it over the templates gives one item per resource
(stack, logical id, property, value, found or MISSING), or one MISSING item when no
template has such a resource at all."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Templates = Mapping[str, Mapping[str, Any]]  # stack name → its CloudFormation template
Check = Callable[[Any], bool]

NOT_SET = "(not set)"
_SHOWN = 160  # characters of a value shown before it is cut


@dataclass(frozen=True)
class Evidence:
    control: str
    stack: str
    logical_id: str
    resource_type: str
    prop: str
    value: str
    found: bool


@dataclass(frozen=True)
class Probe:
    """`path` is the property inside Properties, keys separated by `/` (a `*` takes every
    element of a list); empty for the resource itself. `check` judges the value found
    there (None when absent); `describe` shows it, when the raw value would not read well."""

    control: str
    resource_types: tuple[str, ...]
    path: str
    check: Check
    describe: Callable[[Any], str] | None = None

    def run(self, templates: Templates) -> list[Evidence]:
        items = []
        for stack, template in templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                kind = resource.get("Type", "")
                if kind not in self.resource_types:
                    continue
                value = lookup(resource.get("Properties", {}), self.path)
                items.append(
                    Evidence(
                        self.control,
                        stack,
                        logical_id,
                        kind,
                        self.path or "(resource)",
                        (self.describe or show)(value),
                        bool(self.check(value)),
                    )
                )
        if not items:
            kinds = " or ".join(self.resource_types)
            items.append(
                Evidence(
                    self.control, "", "", kinds, self.path, f"no {kinds} in any template", False
                )
            )
        return items


def probe(
    control: str,
    resource_types: str | tuple[str, ...],
    path: str,
    check: Check,
    describe: Callable[[Any], str] | None = None,
) -> Probe:
    kinds = (resource_types,) if isinstance(resource_types, str) else resource_types
    return Probe(control, kinds, path, check, describe)


def lookup(properties: Any, path: str) -> Any:
    """The value at `path`; a `*` maps the rest of the path over a list's elements."""
    if not path:
        return properties
    key, _, rest = path.partition("/")
    if key == "*":
        if not isinstance(properties, list):
            return None
        return [lookup(element, rest) for element in properties]
    if not isinstance(properties, dict) or key not in properties:
        return None
    return lookup(properties[key], rest)


def show(value: Any) -> str:
    """A value as the report prints it: intrinsic functions shortened, long values cut."""
    if value is None:
        return NOT_SET
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref":
            return f"Ref {argument}"
        if function == "Fn::GetAtt" and isinstance(argument, list):
            return f"GetAtt {'.'.join(map(str, argument))}"
        if function == "Fn::ImportValue":
            return f"ImportValue {show(argument)}"
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# --- checks ------------------------------------------------------------------------------


def is_true(value: Any) -> bool:
    return value is True or value == "true"


def is_false(value: Any) -> bool:
    return value is False or value == "false"


def is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def exists(_: Any) -> bool:
    return True


def one_of(*allowed: str) -> Check:
    return lambda value: value in allowed


def all_of(check: Check) -> Check:
    """Every element of a list (from a `*` path) passes, and there is at least one."""
    return lambda values: isinstance(values, list) and bool(values) and all(map(check, values))


def starts_with(*prefixes: str) -> Check:
    return lambda value: isinstance(value, str) and value.startswith(prefixes)


def positive(value: Any) -> bool:
    try:
        return int(value) > 0
    except (TypeError, ValueError):
        return False


def _statements(document: Any) -> list[dict[str, Any]]:
    """Every policy statement in a document, a list of inline policies, or nested in them."""
    found: list[dict[str, Any]] = []
    if isinstance(document, list):
        for element in document:
            found.extend(_statements(element))
    elif isinstance(document, dict):
        statements = document.get("Statement")
        if statements is not None:
            found.extend(s for s in _as_list(statements) if isinstance(s, dict))
        else:
            for inner in document.values():
                found.extend(_statements(inner))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_actions(document: Any) -> list[str]:
    """Actions an Allow statement grants by wildcard: `*` or a whole service (`s3:*`)."""
    return [
        action
        for statement in _statements(document)
        if statement.get("Effect") == "Allow"
        for action in _as_list(statement.get("Action", []))
        if isinstance(action, str) and (action == "*" or action.endswith(":*"))
    ]


def no_wildcard_actions(document: Any) -> bool:
    return not wildcard_actions(document)


def describe_actions(document: Any) -> str:
    if document is None:
        return "no policy"
    wild = wildcard_actions(document)
    if wild:
        return f"wildcard actions: {', '.join(sorted(set(wild)))}"
    return f"{len(_statements(document))} statement(s), no wildcard action"


def denies_insecure_transport(document: Any) -> bool:
    return any(
        statement.get("Effect") == "Deny"
        and str(lookup(statement, "Condition/Bool/aws:SecureTransport")).lower() == "false"
        for statement in _statements(document)
    )


def describe_transport(document: Any) -> str:
    if denies_insecure_transport(document):
        return "Deny when aws:SecureTransport is false"
    return "no statement denies requests without TLS"


def all_public_access_blocked(value: Any) -> bool:
    keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    return isinstance(value, dict) and all(is_true(value.get(key)) for key in keys)


def service_principals(document: Any) -> list[str]:
    return sorted(
        {
            service
            for statement in _statements(document)
            for service in _as_list(lookup(statement, "Principal/Service") or [])
            if isinstance(service, str)
        }
    )


def assumed_by_services_only(document: Any) -> bool:
    """Assumed by AWS services, not by people or other accounts."""
    statements = _statements(document)
    return bool(statements) and all(
        set(statement.get("Principal", {})) == {"Service"} for statement in statements
    )


def describe_principals(document: Any) -> str:
    services = service_principals(document)
    return f"assumed by {', '.join(services)}" if services else show(document)


def attribute(key: str) -> Callable[[Any], Any]:
    """A Key/Value list's value for `key` (load balancer and target group attributes)."""

    def value_of(attributes: Any) -> Any:
        for entry in _as_list(attributes or []):
            if isinstance(entry, dict) and entry.get("Key") == key:
                return entry.get("Value")
        return None

    return value_of


def tag(key: str) -> Callable[[Any], Any]:
    return attribute(key)


def no_open_ingress(rules: Any) -> bool:
    return not any(
        isinstance(rule, dict)
        and (rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0")
        for rule in _as_list(rules or [])
    )


def describe_ingress(rules: Any) -> str:
    listed = [rule for rule in _as_list(rules or []) if isinstance(rule, dict)]
    if not listed:
        return "no ingress rule"
    if not no_open_ingress(listed):
        return "open to the internet (0.0.0.0/0 or ::/0)"
    return f"{len(listed)} rule(s), none open to the internet"


def redacted(value: Any) -> str:
    return "set" if is_set(value) else NOT_SET
