"""One error shape for every failure: {"error": {"code", "message", "details", "request_id"}}.

Client mistakes are 4xx with a message that says what to change; a dependency that is down
is a quick 503; nothing a client sends becomes a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from health_platform.api import validation_words
from health_platform.api.request_context import request_id

log = logging.getLogger("health_platform.api")


# The codes of HTTP errors raised by the framework itself (no route, a wrong method).
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
HTTP_ERROR = "http_error"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}


def not_found(resource: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {resource}.")


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or [],
            "request_id": request_id.get(),
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _is_read_only(error: Exception) -> bool:
    cause = getattr(error, "orig", error)
    return isinstance(cause, psycopg.errors.ReadOnlySqlTransaction)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        found = validation_words.details(list(error.errors()))
        return error_response(422, "invalid_request", validation_words.summary(found), found)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error.__cause__, ApiError):
            # Raised while FastAPI read the body (too large or slow, api/request_body.py),
            # which FastAPI wraps in a 400 "error parsing the body": the cause is the answer.
            cause = error.__cause__
            return error_response(cause.status, cause.code, cause.message, headers=cause.headers)
        code = HTTP_CODES.get(error.status_code, HTTP_ERROR)
        # Its headers too: a 405's Allow names the methods that would do.
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, code, str(error.detail), headers=headers)

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.DataError)  # from the plain connections (db.py)
    async def _unstorable(_: Request, error: DataError) -> JSONResponse:
        # Input that passed validation but that PostgreSQL cannot store or compare, such as
        # text with NUL characters: the client's mistake, not a server error.
        return error_response(
            422,
            "invalid_request",
            "The request contains a value that cannot be stored"
            " (for example a NUL character in text).",
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)  # from the plain connections (db.py)
    @app.exception_handler(PoolTimeout)
    async def _database_down(_: Request, error: Exception) -> JSONResponse:
        log.error("database unavailable", extra={"error_type": type(error).__name__})
        return error_response(
            503,
            "unavailable",
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(InternalError)
    @app.exception_handler(psycopg.errors.ReadOnlySqlTransaction)  # the plain connections
    async def _read_only(request: Request, error: Exception) -> JSONResponse:
        # A restored database replays WAL and refuses writes until an operator promotes it
        # (`hp restore local --promote`): a state to say, not a bug.
        if not _is_read_only(error):
            return await _bug(request, error)
        log.error("database read-only", extra={"error_type": "ReadOnlySqlTransaction"})
        return error_response(
            503,
            "read_only",
            "The database is read-only while it is being restored; try again later.",
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(Exception)
    async def _bug(_: Request, error: Exception) -> JSONResponse:
        # A bug, not a client mistake: the shape stays the same, the details stay in the log.
        log.error("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(500, "internal_error", "Something went wrong on our side.")

    @app.exception_handler(redis.RedisError)
    async def _redis_down(_: Request, error: Exception) -> JSONResponse:
        log.error("redis unavailable", extra={"error_type": type(error).__name__})
        return error_response(
            503,
            "unavailable",
            "The session store is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
        )
