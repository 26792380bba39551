"""The chapter's load test: simulated users on realistic journeys, run headless for seconds.

    uv run locust -f locustfile.py --headless --users 10 --spawn-rate 10 --run-time 10s \
        --host http://127.0.0.1:8000

Each simulated user registers and logs in once, then reads its profile, reads other users,
lists a page, updates its name and refreshes its tokens, with a short pause in between.
Logins are rate limited per client IP: for more than LOGIN_RATE_LIMIT users a minute from
one machine, serve the app with a higher LOGIN_RATE_LIMIT.

Locust patches the standard library when imported: never import this file from a test,
run it in a process of its own.
"""

import random
from uuid import uuid4

from locust import HttpUser, between, task

PASSWORD = "correct horse battery staple"


class ServiceUser(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        email = f"load-{uuid4().hex}@example.com"
        registered = self.client.post("/users", json={"email": email, "password": PASSWORD})
        self.user_id = registered.json()["id"]
        self.known_ids = [self.user_id]
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
        self.client.get(f"/users/{random.choice(self.known_ids)}", name="/users/{user_id}")

    @task(2)
    def list_users(self) -> None:
        page = self.client.get("/users", params={"limit": 20}, name="/users?limit=20")
        self.known_ids = [user["id"] for user in page.json()["items"]] or [self.user_id]

    @task(1)
    def update_name(self) -> None:
        self.client.patch(
            f"/users/{self.user_id}",
            json={"full_name": f"Load tester {uuid4().hex[:6]}"},
            name="/users/{user_id} [update]",
        )

    @task(1)
    def refresh_tokens(self) -> None:
        tokens = self.client.post("/auth/refresh", json={"refresh_token": self.refresh_token})
        self.use_tokens(tokens.json())
