"""The API says what a request must change in plain words, never the validator's own."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from health_platform.api import validation_words


class Measurement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Annotated[float, Field(gt=0, le=500)]
    count: int = 1
    note: Annotated[str, Field(max_length=5)] = ""


def problems(**body: object) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as invalid:
        Measurement.model_validate(body)
    errors = [{**e, "loc": ("body", *e["loc"])} for e in invalid.value.errors()]
    return validation_words.details(errors)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({}, "value is required"),
        ({"value": 0}, "value must be more than 0"),
        ({"value": 900}, "value must be at most 500"),
        ({"value": "sixty"}, "value must be a number"),
        ({"value": 1, "count": 1.5}, "count must be a whole number"),
        ({"value": 1, "note": "far too long"}, "note must be at most 5 characters long"),
        ({"value": 1, "colour": "red"}, "colour is not a field this accepts"),
    ],
)
def test_each_problem_is_said_in_plain_words(body: dict[str, object], said: str) -> None:
    (found,) = problems(**body)
    assert f"{found['field']} {found['problem']}" == said
    assert "Input should" not in found["problem"] and "pydantic" not in found["problem"]


def test_the_summary_names_the_first_problems() -> None:
    found = problems(value="x", count="y", note="abcdefg", colour=1, size=2)
    summary = validation_words.summary(found)
    assert summary.startswith("Please check: value must be a number; count must be a whole number")
    assert summary.endswith("(and 2 more).")
