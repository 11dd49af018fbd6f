"""Everything of one patient's record, for an export of it (HIPAA's right of access): the
account, every measurement (oldest first) and every kept document's details."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from psycopg.rows import namedtuple_row

from health_platform.api.data import documents, observations
from health_platform.api.db import Database
from health_platform.api.models import User

ACCOUNT = (
    f"SELECT id, email, display_name, date_of_birth FROM {User.__tablename__}"  # noqa: S608
    " WHERE id = %(user_id)s"
)
MEASUREMENTS = (
    f"SELECT {', '.join(observations.COLUMNS)} FROM {observations.TABLE}"  # noqa: S608
    " WHERE user_id = %(user_id)s ORDER BY effective_at, id"
)
DOCUMENTS = (
    f"SELECT {', '.join(documents.LIST.columns)} FROM {documents.LIST.table}"  # noqa: S608
    f" WHERE {' AND '.join(documents.OWN_AND_KEPT)} ORDER BY created_at, id"
)


@dataclass(frozen=True)
class Record:
    account: Any  # named tuple: id, email, display_name, date_of_birth
    observations: list[Any]  # named tuples of observations.COLUMNS
    documents: list[Any]  # named tuples of documents.LIST's columns


async def record_of(database: Database, user_id: uuid.UUID) -> Record:
    """The patient's whole record, read at one moment (one snapshot for the three reads)."""
    params = {"user_id": user_id}
    async with database.connection() as connection, connection.transaction():
        await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor = connection.cursor(row_factory=namedtuple_row)
        account = await (await cursor.execute(ACCOUNT, params)).fetchone()
        measured = await (await cursor.execute(MEASUREMENTS, params)).fetchall()
        kept = await (await cursor.execute(DOCUMENTS, params)).fetchall()
    return Record(account, measured, kept)
