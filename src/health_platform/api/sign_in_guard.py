"""Failed sign-ins slow the guesser, not the owner.

A lock of the whole account after a few failures lets anyone who knows an email lock its
owner out, again and again. Instead, failures are counted per account *and* source (one
Redis hash per account): after `failures_before_delay` from one source, each further attempt
from there must wait twice as long as the time before, up to `longest_delay`. A source is an
IPv4 address or an IPv6 /64 (one host's share of addresses). A success from a source clears
its count and marks it as the owner's.

Many sources at once (a botnet) are met by the account's total: once failures from anywhere
pass `account_allowance`, every source that never signed in to the account starts already
waiting, and longer as the total grows; the owner's sources are not slowed. The owner is
emailed when a source starts waiting and when the total passes the allowance.

Unknown emails are counted alike, so the answers tell no one which accounts exist. Only an
administrator's lock (`users.locked_until`, api/routes/admin.py) holds an account shut for
everyone."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from enum import Enum

from redis.asyncio import Redis

from health_platform.api.errors import ApiError
from health_platform.contract import ApiSettings

FORGET_AFTER_SECONDS = 24 * 3600  # an account's counts go a day after its last failure
IPV6_SOURCE_PREFIX = 64
# Failures from anywhere, in multiples of failures_before_delay, before unknown sources wait.
ACCOUNT_ALLOWANCE_FACTOR = 4
TOTAL, LAST = "total", "last"


class Milestone(Enum):
    """A failure worth telling the owner about."""

    SOURCE_WAITS = "a source now waits"
    ACCOUNT_UNDER_ATTACK = "failures from many sources"


def _key(email: str) -> str:
    # Hashed: the keys of Redis do not list who is being attacked.
    return "signin:" + hashlib.sha256(email.lower().encode()).hexdigest()


def source_of(address: str) -> str:
    """What is counted for `address`: itself, or its /64 for IPv6 (a host commonly holds a
    whole /64 and could otherwise change address for each guess)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", or a test client's name
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_SOURCE_PREFIX}", strict=False))
    return str(parsed)


@dataclass(frozen=True)
class SignInGuard:
    redis: Redis
    failures_before_delay: int
    longest_delay: int

    @property
    def account_allowance(self) -> int:
        return self.failures_before_delay * ACCOUNT_ALLOWANCE_FACTOR

    def delay_after(self, failures: int) -> int:
        """Seconds the next attempt waits after `failures`: none up to the free ones, then
        1, 2, 4 ... up to the longest."""
        over = failures - self.failures_before_delay
        return 0 if over < 0 else min(2**over, self.longest_delay)

    async def refuse_if_waiting(self, email: str, address: str) -> None:
        """429 with Retry-After while `address` must still wait to try `email` again."""
        source = source_of(address)
        until, known, total, last = await self.redis.hmget(
            _key(email), f"{source}:until", f"{source}:ok", TOTAL, LAST
        )
        wait = float(until) - time.time() if until else 0.0
        if not known and total and int(total) > self.account_allowance:
            # The account's total counts against every source it has not seen succeed.
            over = self.failures_before_delay + int(total) - self.account_allowance
            wait = max(wait, float(last or 0) + self.delay_after(over) - time.time())
        if wait > 0:
            seconds = math.ceil(wait)
            raise ApiError(
                429,
                "too_many_attempts",
                f"Too many failed sign-ins from here; try again in {seconds} seconds.",
                headers={"Retry-After": str(seconds)},
            )

    async def failed(self, email: str, address: str) -> Milestone | None:
        """Count a failure of `address` on `email`; returns what the owner should hear of."""
        key, source, now = _key(email), source_of(address), time.time()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(key, f"{source}:failures", 1)
        pipe.hincrby(key, TOTAL, 1)
        pipe.hset(key, LAST, str(now))
        pipe.expire(key, FORGET_AFTER_SECONDS)
        failures, total, *_ = await pipe.execute()
        delay = self.delay_after(int(failures))
        if delay:
            await self.redis.hset(key, f"{source}:until", str(now + delay))
        if int(total) == self.account_allowance + 1:
            return Milestone.ACCOUNT_UNDER_ATTACK
        if int(failures) == self.failures_before_delay:
            return Milestone.SOURCE_WAITS
        return None

    async def succeeded(self, email: str, address: str) -> None:
        key, source = _key(email), source_of(address)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hdel(key, f"{source}:failures", f"{source}:until")
        pipe.hset(key, f"{source}:ok", "1")  # the owner's: not slowed by the total
        pipe.expire(key, FORGET_AFTER_SECONDS)
        await pipe.execute()

    async def forget(self, email: str) -> None:
        """Clear every source's count (an administrator unlocked the account)."""
        await self.redis.delete(_key(email))


def guard_of(redis: Redis, settings: ApiSettings) -> SignInGuard:
    return SignInGuard(
        redis, settings.failures_before_delay, settings.longest_sign_in_delay_seconds
    )
