"""Single flight: concurrent calls for one key share one run of the work.

When a popular cache entry expires, a hundred requests miss at once; without this, each of
them would read the same row from PostgreSQL. With it, the first starts the load and the
others await the same task. One group per process, made in the lifespan.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[Any]] = {}

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        """The result of `work()`, run once for all the callers that ask for `key` meanwhile."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget_if_current(key, done))
        # shield: a caller that gives up (its client left) must not cancel the others' work.
        return await asyncio.shield(task)

    def forget(self, key: Hashable) -> None:
        """The data behind `key` changed: later callers start a new run instead of joining
        one that may have read the old data."""
        self._running.pop(key, None)

    def is_current(self, key: Hashable) -> bool:
        """Inside the work: is this run still the one registered for `key` (not forgotten)?"""
        return self._running.get(key) is asyncio.current_task()

    def _forget_if_current(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        # Only its own entry: a newer run may have taken the key since `forget`.
        if self._running.get(key) is task:
            del self._running[key]
