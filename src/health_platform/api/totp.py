"""TOTP second factor (RFC 6238, 30-second steps, one step of clock drift allowed), each
code usable once."""

from __future__ import annotations

import time

import pyotp
from redis.asyncio import Redis

ISSUER = "health-platform"


def new_secret() -> str:
    return pyotp.random_base32()


def enrollment_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


async def verify(client: Redis, user_id: str, secret: str, code: str) -> bool:
    totp = pyotp.TOTP(secret)
    now = time.time()
    for drift in (0, -1, 1):
        step_time = now + drift * totp.interval
        if totp.verify(code, for_time=step_time, valid_window=0):
            step = int(step_time // totp.interval)
            # Refuse a replay of a code already used in its step.
            return bool(await client.set(f"totp_used:{user_id}:{step}", 1, nx=True, ex=120))
    return False
