"""What a request's validation found, in plain words instead of the validator's.

pydantic's messages ("Input should be greater than 0", "Extra inputs are not permitted")
name its own types; a person entering a measurement needs "must be more than 0". Each
problem is said as what the value must be; the messages of the API's own validators
(value_error) are already plain and are kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXAMPLE_TIME = "2026-11-30T08:00:00Z"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain(kind: str, ctx: Mapping[str, Any], message: str) -> str:
    """The problem a pydantic error of `kind` names, as "must …" or "is …"."""
    match kind:
        case "missing":
            return "is required"
        case "greater_than":
            return f"must be more than {_number(ctx['gt'])}"
        case "greater_than_equal":
            return f"must be at least {_number(ctx['ge'])}"
        case "less_than":
            return f"must be less than {_number(ctx['lt'])}"
        case "less_than_equal":
            return f"must be at most {_number(ctx['le'])}"
        case "string_too_short":
            return f"must be at least {ctx['min_length']} characters long"
        case "string_too_long":
            return f"must be at most {ctx['max_length']} characters long"
        case "too_short":
            return f"needs at least {ctx['min_length']} item(s)"
        case "too_long":
            return f"takes at most {ctx['max_length']} item(s)"
        case "int_parsing" | "int_type" | "int_from_float":
            return "must be a whole number"
        case "float_parsing" | "float_type" | "finite_number" | "decimal_parsing":
            return "must be a number"
        case "bool_parsing" | "bool_type":
            return "must be true or false"
        case "string_type" | "string_unicode":
            return "must be text"
        case "datetime_parsing" | "datetime_type" | "datetime_from_date_parsing":
            return f"must be a date and time, such as {EXAMPLE_TIME}"
        case "timezone_aware":
            return f"must include a time zone (Z or +01:00), such as {EXAMPLE_TIME}"
        case "date_parsing" | "date_type" | "date_from_datetime_parsing":
            return "must be a date written YYYY-MM-DD"
        case "date_past" | "datetime_past":
            return "must be in the past"
        case "date_future" | "datetime_future":
            return "must be in the future"
        case "literal_error" | "enum":
            return f"must be {ctx.get('expected', 'one of the listed values')}"
        case "uuid_parsing" | "uuid_type":
            return "must be an identifier as the API gave it"
        case "json_invalid":
            return "is not valid JSON"
        case "extra_forbidden":
            return "is not a field this accepts"
        case "string_pattern_mismatch":
            return "is not in the expected form"
        case "dict_type" | "model_type" | "model_attributes_type":
            return "must be an object of fields"
        case "list_type":
            return "must be a list"
        case "value_error" | "assertion_error":
            return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        case _:
            return "is not valid"


def field_name(location: tuple[Any, ...]) -> str:
    """ "value" for ("body", "value"); "limit" for ("query", "limit"); nested "items.0.value"."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "the request"


def details(errors: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "field": field_name(tuple(item["loc"])),
            "problem": plain(str(item["type"]), item.get("ctx") or {}, str(item["msg"])),
        }
        for item in errors
    ]


def summary(found: list[dict[str, str]]) -> str:
    """One sentence over the details: "date of birth must be a date written YYYY-MM-DD."."""
    said = [f"{d['field'].replace('_', ' ')} {d['problem']}" for d in found[:3]]
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    if not said:
        return "The request is not one this accepts."
    return f"Please check: {'; '.join(said)}{more}."
