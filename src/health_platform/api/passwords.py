"""Argon2id password hashing (argon2-cffi's defaults follow RFC 9106's recommendations).
Hashing is deliberately slow, so it runs in a worker thread, off the event loop."""

from __future__ import annotations

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id
# Verifying against this when the account does not exist keeps the timing the same.
_DUMMY = _hasher.hash("not-a-real-password")


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        # An empty hash is no password either (never the dummy's, which anyone may know).
        return _hasher.verify(password_hash or _DUMMY, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
