"""Fixed-window rate limits in Redis, answered with 429 and Retry-After.

`count` queues a request's tally on a pipeline the caller executes (so it can share the
round trip with other reads); `check` judges the count that came back; `enforce` does
both in a trip of its own."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from health_platform.api.errors import ApiError

WINDOW_SECONDS = 60


def count(pipe: Any, scope: str, identity: str, *, tally: str | None = None) -> None:
    """Queue one request of `identity` in `scope`: the pipeline's result at this position
    is the window's count. `tally` names a per-minute counter (the admin dashboard's)
    bumped in the same trip."""
    now = time.time()
    key = f"rl:{scope}:{identity}:{int(now // WINDOW_SECONDS)}"
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    if tally:
        counter = f"counter:{tally}:{int(now // 60)}"
        pipe.incr(counter)
        pipe.expire(counter, 3600)


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


async def enforce(client: Redis, scope: str, identity: str, limit: int) -> None:
    pipe = client.pipeline(transaction=False)
    count(pipe, scope, identity)
    check((await pipe.execute())[0], limit)
