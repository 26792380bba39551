"""Writes: each user changes its own name, `PATCH /users/me`.

A write is the service's most expensive common request: the rate limiter's Lua script, an
UPDATE ... RETURNING and its commit, and a cache invalidation that makes the caller's next
authentication read PostgreSQL again. Each simulated user owns a distinct seeded account, so
the rows do not contend for one lock.
"""

import itertools

from locust import FastHttpUser, constant, task

from harness.bench.scenarios import seeded

_names = itertools.count()


class WriterUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = seeded.bearer(seeded.personal_tokens(self.environment)["access_token"])

    @task
    def update_own_profile(self) -> None:
        change = {"full_name": f"Bench User {next(_names)}"}
        self.client.patch("/users/me", json=change, headers=self.headers)
