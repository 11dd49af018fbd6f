"""Fixed-window rate limits in Redis, answered with 429 and Retry-After, and the per-minute
tallies the admin dashboard reads.

`count` queues a request's tally on a pipeline the caller executes (so it can share the
round trip with other reads); `check` judges the count that came back; `enforce` does
both in a trip of its own."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from health_platform.api.errors import ApiError

WINDOW_SECONDS = 60
TALLY_SECONDS = 3600  # how long a minute's tally is kept
QUEUED = 2  # the results each `count` adds to a pipeline's (the first is the count)


def tally_key(name: str, minute: int) -> str:
    """The key of the tally `name` for `minute` (Unix time // 60)."""
    return f"counter:{name}:{minute}"


def this_minutes(name: str) -> str:
    """The key of this minute's tally `name`."""
    return tally_key(name, int(time.time() // 60))


def tally(pipe: Any, name: str) -> None:
    """Queue bumping this minute's tally `name` on a pipeline the caller executes."""
    key = this_minutes(name)
    pipe.incr(key)
    pipe.expire(key, TALLY_SECONDS)


def window_key(scope: str, identity: str) -> str:
    """The counter of `identity`'s requests in `scope` this window; it lives two windows."""
    return f"rl:{scope}:{identity}:{int(time.time() // WINDOW_SECONDS)}"


WINDOW_KEY_SECONDS = WINDOW_SECONDS * 2


def count(pipe: Any, scope: str, identity: str) -> None:
    """Queue one request of `identity` in `scope`: the pipeline's result at this position
    is the window's count (QUEUED results per call)."""
    key = window_key(scope, identity)
    pipe.incr(key)
    pipe.expire(key, WINDOW_KEY_SECONDS)


def check(window_count: int, limit: int) -> None:
    """Refuse the request if its window's count is over `limit`."""
    if window_count > limit:
        retry_after = WINDOW_SECONDS - int(time.time() % WINDOW_SECONDS)
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


async def enforce(client: Redis, limit: int, *identities: tuple[str, str]) -> None:
    """Count the request against each (scope, identity) in one trip; refuse it if any of
    them is over `limit`."""
    pipe = client.pipeline(transaction=False)
    for scope, identity in identities:
        count(pipe, scope, identity)
    results = await pipe.execute()
    check(max(results[0::QUEUED]), limit)
