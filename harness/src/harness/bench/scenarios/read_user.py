"""An authenticated read of another user: `GET /users/{id}` over the seeded users.

Run with the cache on (the cached read), off (the uncached read), and against every chapter's
solution. In the finished service, with the cache on, the request costs a token check and one
Redis MGET (the revocation marks, the caller and the user); with it off, the caller and the
user come from PostgreSQL.
"""

from locust import FastHttpUser, constant, task

from harness.bench.scenarios import seeded


class ReaderUser(FastHttpUser):
    wait_time = constant(0)  # closed loop: throughput is what the server can answer

    def on_start(self) -> None:
        self.headers = seeded.shared_headers()

    @task
    def read_user(self) -> None:
        user_id = seeded.random_user_id()
        self.client.get(f"/users/{user_id}", headers=self.headers, name="/users/{id}")
