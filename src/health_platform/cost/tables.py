"""The dated price table and the usage assumptions, read from the data files beside this
module, and the `--assume NAME=VALUE` overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from health_platform.errors import InvalidInputError

# After this long the table is said to be out of date.
STALE_AFTER = dt.timedelta(days=365)


class InvalidAssumptionError(InvalidInputError):
    """An `--assume` that is not NAME=NUMBER with a known NAME."""


class UnpricedError(InvalidInputError):
    """The price table has no price for what an environment uses (its region, a size)."""


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files(__package__).joinpath(name).read_text("utf-8"))


@dataclass(frozen=True)
class PriceTable:
    region: str
    checked: dt.date
    sources: Mapping[str, str]
    prices: Mapping[str, Any]

    def __getitem__(self, name: str) -> float:
        return float(self.prices[name])

    def size(self, table: str, size: str) -> float:
        """The hourly price of a size in `table`, e.g. db.t3.micro in rds_instance_hour."""
        by_size: Mapping[str, float] = self.prices[table]
        if size not in by_size:
            raise UnpricedError(
                f"The price table has no price for {size}; add it to"
                f" health_platform/cost/prices.yaml ({table}) from {self.sources_of(table)}."
            )
        return float(by_size[size])

    def sources_of(self, table: str) -> str:
        key = "rds" if table.startswith("rds") else "elasticache"
        return self.sources.get(key, "AWS's pricing pages")

    def stale(self, today: dt.date) -> bool:
        return today - self.checked > STALE_AFTER

    def require_region(self, region: str) -> None:
        if region != self.region:
            raise UnpricedError(
                f"The price table is for {self.region}, not {region}; the estimate needs a"
                f" table of {region}'s prices in health_platform/cost/prices.yaml."
            )


def price_table() -> PriceTable:
    raw = _data("prices.yaml")
    return PriceTable(
        region=raw["region"], checked=raw["checked"], sources=raw["sources"], prices=raw["prices"]
    )


def default_assumptions(environment: str) -> dict[str, float]:
    raw = _data("assumptions.yaml")
    chosen = {**raw["defaults"], **(raw.get("environments") or {}).get(environment, {})}
    return {name: float(value) for name, value in chosen.items()}


def parse_overrides(pairs: Sequence[str], known: Sequence[str]) -> dict[str, float]:
    """`["requests_per_month=5e6"]` → `{"requests_per_month": 5000000.0}`."""
    overrides: dict[str, float] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip()
        if not equals or name not in known:
            raise InvalidAssumptionError(
                f"--assume {pair!r} is not NAME=NUMBER with a known NAME"
                f" ({', '.join(sorted(known))})."
            )
        try:
            value = float(text.strip())
        except ValueError:
            value = -1.0
        if not value >= 0 or value == float("inf"):
            raise InvalidAssumptionError(
                f"--assume {pair!r}: {text.strip()!r} is not a number of zero or more."
            )
        overrides[name] = value
    return overrides
