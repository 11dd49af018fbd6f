"""The verdicts of `hp doctor`, local and on AWS: one line per check, with a hint when it
is not a pass. Warnings exit 0 (a freshly started platform passes); a failure exits 1."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    component: str
    name: str
    status: Status
    detail: str
    hint: str = ""  # what to run or do; required unless it passed

    def __post_init__(self) -> None:
        if self.status != "pass" and not self.hint:
            raise ValueError(f"{self.component}/{self.name}: a {self.status} needs a hint")


def failed(checks: Sequence[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def guarded(component: str, name: str, run: Callable[[], list[Check]], hint: str) -> list[Check]:
    """Run one check; an error in it is that check's failure, so the others still run."""
    try:
        return run()
    except Exception as problem:
        return [Check(component, name, "fail", f"could not check: {problem}", hint)]
