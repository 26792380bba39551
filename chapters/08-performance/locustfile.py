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

from typing import ClassVar

from locust import HttpUser, between, task

PASSWORD = "correct horse battery staple"


class ServiceUser(HttpUser):
    wait_time = between(0.1, 0.5)
    # The ids of the simulated users registered so far: one list, shared by all of them.
    registered_ids: ClassVar[list[str]] = []

    def on_start(self) -> None:
        """Once per simulated user, before its tasks: a new account, logged in."""
        # TODO(performance.load_test): give this simulated user an account of its own (the
        # service refuses an email it already has), make its id known to the other users,
        # and log in, so that every task after this one is sent with a valid access token.

    def use_tokens(self, tokens: dict[str, str]) -> None:
        self.refresh_token = tokens["refresh_token"]
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    # TODO(performance.load_test): write each journey below, as a real client would send it.
    # The report shows one line per request name: a URL that carries an id must not make a
    # line per id. A request the service refuses is a failure of the run, never hidden.

    @task(5)
    def read_profile(self) -> None:
        """GET /users/me."""

    @task(5)
    def read_other_user(self) -> None:
        """GET /users/<one of registered_ids>, reported as "/users/{user_id}"."""

    @task(1)
    def update_name(self) -> None:
        """PATCH /users/me with a new full_name."""

    @task(1)
    def refresh_tokens(self) -> None:
        """POST /auth/refresh with this user's refresh token, then use the new tokens."""
