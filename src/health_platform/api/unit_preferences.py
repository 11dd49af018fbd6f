"""The units a patient chose to see and enter measurements in, one per kind of the
vocabulary's PREFERENCES (mass: kg or lb; temperature: C or F; glucose: mg/dL or mmol/L).
The model is made from PREFERENCES, so a kind or unit added there is accepted here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from health_platform.api.vocabulary import PREFERENCES

UnitPreferences: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "UnitPreferences",
    __config__=ConfigDict(extra="forbid"),
    **{
        kind: (Literal[tuple(unit.key for unit in units)], units[0].key)
        for kind, units in PREFERENCES.items()
    },
)


def of(stored: dict[str, Any] | None) -> BaseModel:
    """A user's choices, the defaults for any kind not chosen (or no longer offered)."""
    chosen = {
        kind: key
        for kind, key in (stored or {}).items()
        if kind in PREFERENCES and key in {unit.key for unit in PREFERENCES[kind]}
    }
    return UnitPreferences(**chosen)
