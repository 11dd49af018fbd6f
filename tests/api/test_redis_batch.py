"""Redis commands of concurrent requests sent in shared batches, against real Redis: each
request gets its own results in its order, concurrent requests share pipelines, a failing
command fails only its own request, and Redis away fails every request with its error."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis
from redis.asyncio import Redis

from health_platform.api.redis_batch import RedisBatch
from health_platform.local.ports import free_port
from tests.conftest import Backends


class Counting(RedisBatch):
    """A RedisBatch that counts the pipelines it sends."""

    pipelines = 0

    def __init__(self, client: Redis) -> None:
        super().__init__(client)
        real = client.pipeline

        def counted(**options: Any) -> Any:
            self.pipelines += 1
            return real(**options)

        client.pipeline = counted  # type: ignore[method-assign,assignment]


def with_batch(url: str, scenario: Callable[[Counting], Awaitable[None]]) -> None:
    async def run() -> None:
        client = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        batch = Counting(client)
        try:
            await scenario(batch)
        finally:
            await batch.close()
            await client.aclose()

    asyncio.run(run())


def test_concurrent_requests_share_pipelines_and_get_their_own_results(
    backends: Backends,
) -> None:
    prefix = f"batch-test:{secrets.token_hex(4)}"

    async def one_request(batch: RedisBatch, n: int) -> list[Any]:
        def queue(pipe: Any) -> None:
            pipe.set(f"{prefix}:{n}", n)
            pipe.incr(f"{prefix}:{n}")
            pipe.get(f"{prefix}:{n}")

        return await batch.run(queue)

    async def scenario(batch: Counting) -> None:
        answers = await asyncio.gather(*(one_request(batch, n) for n in range(50)))
        assert answers == [[True, n + 1, str(n + 1).encode()] for n in range(50)]
        # The first request is sent alone (nothing in flight); the others wait and go
        # together.
        assert batch.pipelines <= 3

    with_batch(backends.redis.url, scenario)


def test_a_failing_command_fails_only_its_own_request(backends: Backends) -> None:
    key = f"batch-test:{secrets.token_hex(4)}"

    async def scenario(batch: Counting) -> None:
        await batch.run(lambda pipe: pipe.set(key, "not a number"))
        answers: list[Any] = await asyncio.gather(
            batch.run(lambda pipe: pipe.incr(key)),
            batch.run(lambda pipe: pipe.get(key)),
            return_exceptions=True,
        )
        wrong, right = answers
        assert isinstance(wrong, redis.ResponseError)
        assert right == [b"not a number"]

    with_batch(backends.redis.url, scenario)


def test_redis_away_fails_every_request_with_its_error() -> None:
    async def scenario(batch: Counting) -> None:
        answers = await asyncio.gather(
            *(batch.run(lambda pipe: pipe.get("x")) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(a, redis.ConnectionError) for a in answers)

    # Nothing listens on the port: the connection is refused at once.
    with_batch(f"redis://127.0.0.1:{free_port()}/0", scenario)


def test_riders_go_with_the_next_batch_and_increments_add_up(backends: Backends) -> None:
    tally, counter = (f"batch-test:{secrets.token_hex(4)}:{name}" for name in ("tally", "n"))

    async def one_request(batch: RedisBatch) -> list[Any]:
        batch.increment(tally, 60)
        return await batch.run(lambda pipe: pipe.incr(counter))

    async def scenario(batch: Counting) -> None:
        await asyncio.gather(*(one_request(batch) for _ in range(20)))
        batch.expire(counter, 30)
        total, tally_ttl, counter_ttl = await batch.run(
            lambda pipe: (pipe.get(tally), pipe.ttl(tally), pipe.ttl(counter))
        )
        assert int(total) == 20
        assert 0 < tally_ttl <= 60 and 0 < counter_ttl <= 30

    with_batch(backends.redis.url, scenario)


class AwayPipeline:
    """A pipeline to a Redis that is away: each batch fails after a while."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def __len__(self) -> int:
        return len(self.commands)

    def __getattr__(self, command: str) -> Callable[..., AwayPipeline]:
        def queued(*_: Any, **__: Any) -> AwayPipeline:
            self.commands.append(command)
            return self

        return queued

    async def execute(self, **_: Any) -> list[Any]:
        await asyncio.sleep(0.05)
        raise redis.ConnectionError("Redis is away")


class AwayRedis:
    def pipeline(self, **_: Any) -> AwayPipeline:
        return AwayPipeline()


def test_a_request_queued_while_riders_alone_fail_is_answered_too() -> None:
    async def scenario() -> Any:
        batch = RedisBatch(AwayRedis())  # type: ignore[arg-type]
        batch.increment("tally", 60)  # the tally goes alone at once, and fails at 0.05 s
        await asyncio.sleep(0.01)
        try:
            return await asyncio.wait_for(batch.run(lambda pipe: pipe.get("a")), timeout=2)
        except redis.ConnectionError as refused:
            return refused
        finally:
            await batch.close()

    assert isinstance(asyncio.run(scenario()), redis.ConnectionError)
