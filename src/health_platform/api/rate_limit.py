"""Fixed-window rate limits in Redis, answered with 429 and Retry-After."""

from __future__ import annotations

import time

import redis

from health_platform.api.errors import ApiError

WINDOW_SECONDS = 60


def enforce(
    client: redis.Redis, scope: str, identity: str, limit: int, *, tally: str | None = None
) -> None:
    """Count one request of `identity` in `scope`; refuse it if the minute's count is over.
    `tally` names a per-minute counter (the admin dashboard's) bumped in the same trip."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"rl:{scope}:{identity}:{window}"
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    if tally:
        counter = f"counter:{tally}:{int(now // 60)}"
        pipe.incr(counter)
        pipe.expire(counter, 3600)
    count = pipe.execute()[0]
    if count > limit:
        retry_after = WINDOW_SECONDS - int(now % WINDOW_SECONDS)
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
