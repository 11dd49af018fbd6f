"""CSV for people who open it in a spreadsheet: a cell that starts like a formula (=, +, -,
@, a tab or a carriage return) is a formula there, and a patient's name or note is theirs to
write. Such a cell is written with a leading apostrophe, which spreadsheets show as text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cells: Iterable[Any]) -> list[Any]:
    return [
        f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell
        for cell in cells
    ]
