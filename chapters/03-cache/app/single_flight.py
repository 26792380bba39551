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
        # TODO(cache.single_flight): today every caller runs the work itself. Run it once per
        # key at a time: the first caller starts it as a task of its own and registers it in
        # `self._running`; callers that come while it runs await that same task. When the
        # task is done, its entry goes, so the next caller starts fresh work (a finished run
        # read data that may since have changed); but only its own entry: `forget` may have
        # let a newer run take the key meanwhile. A caller that gives up (its client went
        # away, so its request is cancelled) must not cancel the work the others await.
        return await work()

    def forget(self, key: Hashable) -> None:
        """The data behind `key` changed: later callers start a new run instead of joining
        one that may have read the old data."""
        # TODO(cache.single_flight): later callers must not join the run in progress; the
        # run itself goes on for those already waiting on it.

    def is_current(self, key: Hashable) -> bool:
        """Inside the work: is this run still the one registered for `key` (not forgotten)?"""
        # TODO(cache.single_flight): answer whether the task running this code is the one
        # registered for the key. After `forget`, or once a newer run took the key, it is
        # not; and a key with no run registered at all is an answer too ("no"), not an error.
        return True
