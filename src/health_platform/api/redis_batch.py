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
all (Redis away) fails every request in it, with redis-py's error."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

# Queues a request's commands on the batch's pipeline (`pipe.get(key)`, ...).
Queue = Callable[[Any], None]


class RedisBatch:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self._waiting: list[tuple[Queue, asyncio.Future[list[Any]]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def run(self, queue: Queue) -> list[Any]:
        """The results of the commands `queue` puts on a pipeline, once they are answered."""
        answered: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((queue, answered))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())
        return await answered

    async def _send_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            pipe = self.client.pipeline(transaction=False)
            spans = []
            for queue, answered in batch:
                start = len(pipe)
                try:
                    queue(pipe)
                except Exception as mistaken:  # a bug in one request's queue: its own error
                    answered.set_exception(mistaken)
                spans.append((start, len(pipe)))
            try:
                results = await pipe.execute(raise_on_error=False)
            except Exception as failed:
                for _, answered in batch:
                    if not answered.done():  # its request may have been cancelled
                        answered.set_exception(failed)
                continue
            for (_, answered), (start, end) in zip(batch, spans, strict=True):
                if answered.done():
                    continue
                own = results[start:end]
                error = next((r for r in own if isinstance(r, Exception)), None)
                if error is not None:
                    answered.set_exception(error)
                else:
                    answered.set_result(own)

    async def close(self) -> None:
        """Let the batch in flight finish."""
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
