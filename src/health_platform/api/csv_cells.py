"""CSV downloads, for people who open them in a spreadsheet: a cell that starts like a
formula (=, +, -, @, a tab or a carriage return) is a formula there, and a patient's name or
note is theirs to write. Such a cell is written with a leading apostrophe, which spreadsheets
show as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from fastapi import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cells: Iterable[Any]) -> list[Any]:
    return [
        f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell
        for cell in cells
    ]


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Response:
    """`rows` under `header` as a CSV file to save as `filename`, every cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(spreadsheet_safe(row) for row in rows)
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
