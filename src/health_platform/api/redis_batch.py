"""The Redis commands of concurrent requests sent together (auto-pipelining, as Node's
ioredis offers): each request queues its commands and waits; commands that arrive while a
batch is in flight go together in the next one, one pipeline, one write and one read for
many requests. Idle, a request's commands are sent at once.

Every request pays a write and a read per round trip, and each write to a waiting Redis
wakes it: at saturation those syscalls were a fifth of a request's CPU (py-spy:
asyncio's writelines, issue 18). redis-py has no auto-pipelining of its own; this is the
AuditTrail's group commit applied to Redis.

A request's results come back in the order it queued its commands. A command that fails
(a wrong type, say) fails only the request that queued it; a batch that cannot be sent at
all (Redis away) fails every request in it, with redis-py's error.

Some commands need no answer: a per-minute tally, a counter's time to live. Those ride
along (`increment`, `expire`) without a wait: the next batch carries them, increments of
one key from many requests as one INCRBY. A batch that fails keeps them for the next (so
a batch Redis ran but whose reply was lost counts a tally twice), and `close` gives those
still waiting one last try; a process killed between two batches loses them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

# Queues a request's commands on the batch's pipeline (`pipe.get(key)`, ...).
Queue = Callable[[Any], object]


class RedisBatch:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self._waiting: list[tuple[Queue, asyncio.Future[list[Any]]]] = []
        self._sender: asyncio.Task[None] | None = None
        # Riders: key -> (increment, seconds to live); key -> seconds to live.
        self._increments: dict[str, tuple[int, int]] = {}
        self._expiries: dict[str, int] = {}

    async def run(self, queue: Queue) -> list[Any]:
        """The results of the commands `queue` puts on a pipeline, once they are answered."""
        answered: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((queue, answered))
        self._send_soon()
        return await answered

    def increment(self, key: str, seconds: int) -> None:
        """Add 1 to the counter `key` and keep it `seconds`, with the next batch."""
        count, _ = self._increments.get(key, (0, seconds))
        self._increments[key] = (count + 1, seconds)
        self._send_soon()

    def expire(self, key: str, seconds: int) -> None:
        """Keep `key` `seconds` from now, with the next batch."""
        self._expiries[key] = seconds
        self._send_soon()

    def _send_soon(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())

    def _queue_riders(self, pipe: Any) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
        increments, self._increments = self._increments, {}
        expiries, self._expiries = self._expiries, {}
        for key, (count, seconds) in increments.items():
            pipe.incrby(key, count)
            pipe.expire(key, seconds)
        for key, seconds in expiries.items():
            pipe.expire(key, seconds)
        return increments, expiries

    def _keep_riders(
        self, increments: dict[str, tuple[int, int]], expiries: dict[str, int]
    ) -> None:
        """Riders of a batch that failed, for the next."""
        for key, (count, seconds) in increments.items():
            self._increments[key] = (self._increments.get(key, (0, seconds))[0] + count, seconds)
        self._expiries = {**expiries, **self._expiries}

    async def _send_waiting(self) -> None:
        while self._waiting or self._increments or self._expiries:
            batch, self._waiting = self._waiting, []
            answered = await self._send(batch)
            if not answered and not batch and not self._waiting:
                return  # riders alone, and Redis away: they wait for the next batch

    async def _send(self, batch: list[tuple[Queue, asyncio.Future[list[Any]]]]) -> bool:
        """Send one batch with the riders; whether Redis answered. Every request in it is
        answered, whatever happens here."""
        pipe = self.client.pipeline(transaction=False)
        riders = self._queue_riders(pipe)
        try:
            spans = []
            for queue, answered in batch:
                start = len(pipe)
                if not answered.done():  # a cancelled request's commands are not sent
                    try:
                        queue(pipe)
                    except Exception as mistaken:  # a bug in one request's queue: its error
                        answered.set_exception(mistaken)
                spans.append((start, len(pipe)))
            try:
                results = await pipe.execute(raise_on_error=False)
            except Exception as failed:
                self._keep_riders(*riders)
                _fail(batch, failed)
                return False
            for (_, answered), (start, end) in zip(batch, spans, strict=True):
                if answered.done():
                    continue
                own = results[start:end]
                error = next((r for r in own if isinstance(r, Exception)), None)
                if error is not None:
                    answered.set_exception(error)
                else:
                    answered.set_result(own)
            return True
        except BaseException as broken:  # cancelled, or a bug here: no request left waiting
            _fail(batch, broken)
            raise

    async def close(self) -> None:
        """Let the batch in flight finish, and give riders still waiting a last try."""
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._increments or self._expiries:
            await self._send([])


def _fail(batch: list[tuple[Queue, asyncio.Future[list[Any]]]], error: BaseException) -> None:
    for _, answered in batch:
        if answered.done():  # answered already, or its request was cancelled
            continue
        if isinstance(error, Exception):
            answered.set_exception(error)
        else:
            answered.cancel()
