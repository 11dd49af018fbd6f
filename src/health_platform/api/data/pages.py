"""One way to read a page of a list, for every paged list of the API (observations,
documents, accounts, the audit log): the rows of the page and the total matching, in one
round trip. The total rides along each row (a window count over the same filter), so a
page costs one statement; only a page past the end, which sees no rows, counts apart."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row

# How many rows a list returns unless asked, the most it returns at once, and the furthest
# it lets a client skip.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class ListQuery:
    """A list: its table, the columns (or expressions) of a row, and its order. The
    conditions a page is read with come from the data module's code, never from input;
    input travels as parameters."""

    table: str
    columns: tuple[str, ...]
    order: str


@dataclass(frozen=True)
class Page:
    rows: list[Any]  # named tuples: the ListQuery's columns, and `total`
    total: int
    limit: int
    offset: int


def contains(part: str) -> str:
    """An ILIKE pattern (with ESCAPE '\\') for `part` as typed: % and _ match themselves,
    not any characters."""
    literal = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{literal}%"


def set_filters(conditions: dict[str, object]) -> tuple[str, ...]:
    """The conditions (SQL, with named parameters) whose value is set: a list's filters."""
    return tuple(condition for condition, value in conditions.items() if value is not None)


@functools.cache
def statements(query: ListQuery, conditions: tuple[str, ...]) -> tuple[str, str]:
    """The page statement (with the total beside each row) and the count statement."""
    where = " AND ".join(conditions) or "TRUE"
    page = (
        f"SELECT {', '.join(query.columns)}, count(*) OVER () AS total"  # noqa: S608
        f" FROM {query.table} WHERE {where}"
        f" ORDER BY {query.order} LIMIT %(limit)s OFFSET %(offset)s"
    )
    return page, f"SELECT count(*) FROM {query.table} WHERE {where}"  # noqa: S608


async def read_page(
    connection: psycopg.AsyncConnection[Any],
    query: ListQuery,
    conditions: tuple[str, ...],
    params: Mapping[str, Any],
    *,
    limit: int,
    offset: int,
) -> Page:
    page_statement, count_statement = statements(query, conditions)
    values = {**params, "limit": limit, "offset": offset}
    cursor = connection.cursor(row_factory=namedtuple_row)
    rows: list[Any] = await (await cursor.execute(page_statement, values)).fetchall()
    if rows:
        total = rows[0].total
    else:  # past the end the window saw no rows, so the count runs on its own
        counted = await connection.execute(count_statement, values)
        total = (await counted.fetchone() or (0,))[0]
    return Page(rows=rows, total=total, limit=limit, offset=offset)
