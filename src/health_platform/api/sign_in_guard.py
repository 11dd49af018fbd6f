"""Failed sign-ins slow the guesser, not the owner.

A lock of the whole account after a few failures lets anyone who knows an email lock its
owner out, again and again. Instead, failures are counted per account *and* source address
(one Redis hash per account, two fields per address): after `failures_before_delay` of them,
each further attempt from that address must wait, twice as long as the time before, up to
`longest_sign_in_delay_seconds`. The owner, signing in from elsewhere, is not slowed; a
success from an address clears its count. Unknown emails are counted alike, so the answers
tell no one which accounts exist.

Only an administrator's lock (`users.locked_until`, api/routes/admin.py) holds an account
shut for everyone."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from health_platform.api.errors import ApiError
from health_platform.contract import ApiSettings

FORGET_AFTER_SECONDS = 24 * 3600  # an account's counts go a day after its last failure


def _key(email: str) -> str:
    # Hashed: the keys of Redis do not list who is being attacked.
    return "signin:" + hashlib.sha256(email.lower().encode()).hexdigest()


@dataclass(frozen=True)
class SignInGuard:
    redis: Redis
    failures_before_delay: int
    longest_delay: int

    async def refuse_if_waiting(self, email: str, address: str) -> None:
        """429 with Retry-After while `address` must still wait to try `email` again."""
        until = await self.redis.hget(_key(email), f"{address}:until")
        wait = math.ceil(float(until) - time.time()) if until else 0
        if wait > 0:
            raise ApiError(
                429,
                "too_many_attempts",
                f"Too many failed sign-ins from here; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )

    async def failed(self, email: str, address: str) -> int:
        """Count a failure of `address` on `email`; returns its count so far."""
        key = _key(email)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(key, f"{address}:failures", 1)
        pipe.expire(key, FORGET_AFTER_SECONDS)
        failures = int((await pipe.execute())[0])
        delay = self.delay_after(failures)
        if delay:
            await self.redis.hset(key, f"{address}:until", str(time.time() + delay))
        return failures

    def delay_after(self, failures: int) -> int:
        """Seconds the next attempt waits after `failures`: none up to the free ones, then
        1, 2, 4 ... up to the longest."""
        over = failures - self.failures_before_delay
        return 0 if over < 0 else min(2**over, self.longest_delay)

    async def succeeded(self, email: str, address: str) -> None:
        await self.redis.hdel(_key(email), f"{address}:failures", f"{address}:until")

    async def forget(self, email: str) -> None:
        """Clear every address's count (an administrator unlocked the account)."""
        await self.redis.delete(_key(email))


def guard_of(redis: Redis, settings: ApiSettings) -> SignInGuard:
    return SignInGuard(
        redis, settings.failures_before_delay, settings.longest_sign_in_delay_seconds
    )
