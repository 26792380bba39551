"""The chapter's load test: simulated users on realistic journeys, run headless for seconds.

    uv run locust -f locustfile.py --headless --users 10 --spawn-rate 10 --run-time 10s \
        --host http://127.0.0.1:8000

Each simulated user registers and logs in once, then reads its profile, reads other users,
changes its name and refreshes its tokens, with a short pause in between. Every simulated
user comes from this one machine, which the limits per client address would soon refuse:
serve the app with RATE_LIMIT_ENABLED=false for a load test.

Locust patches the standard library when imported: never import this file from a test,
run it in a process of its own.
"""

import random
from typing import ClassVar
from uuid import uuid4

from locust import HttpUser, between, task

PASSWORD = "correct horse battery staple"


class ServiceUser(HttpUser):
    wait_time = between(0.1, 0.5)
    # The ids of the simulated users registered so far: one list, shared by all of them.
    registered_ids: ClassVar[list[str]] = []

    def on_start(self) -> None:
        """Once per simulated user, before its tasks: a new account, logged in."""
        email = f"load-{uuid4().hex}@example.com"
        registered = self.client.post("/users", json={"email": email, "password": PASSWORD})
        self.user_id = registered.json()["id"]
        self.registered_ids.append(self.user_id)
        tokens = self.client.post("/auth/token", data={"username": email, "password": PASSWORD})
        self.use_tokens(tokens.json())

    def use_tokens(self, tokens: dict[str, str]) -> None:
        self.refresh_token = tokens["refresh_token"]
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    @task(5)
    def read_profile(self) -> None:
        self.client.get("/users/me")

    @task(5)
    def read_other_user(self) -> None:
        # `name` groups every id under one line of the report, as metrics do by route.
        user_id = random.choice(self.registered_ids)
        self.client.get(f"/users/{user_id}", name="/users/{user_id}")

    @task(1)
    def update_name(self) -> None:
        self.client.patch("/users/me", json={"full_name": f"Load tester {uuid4().hex[:6]}"})

    @task(1)
    def refresh_tokens(self) -> None:
        tokens = self.client.post("/auth/refresh", json={"refresh_token": self.refresh_token})
        self.use_tokens(tokens.json())
