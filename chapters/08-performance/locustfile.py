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

from locust import HttpUser, between, task

PASSWORD = "correct horse battery staple"


class ServiceUser(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        """Once per simulated user, before its tasks: a new account, logged in."""
        # TODO(performance.load_test): register a user with a unique email and PASSWORD
        # (POST /users), keep its id in self.user_id and in self.known_ids, then log in
        # (POST /auth/token, a form) and hand the answer's tokens to self.use_tokens.

    def use_tokens(self, tokens: dict[str, str]) -> None:
        self.refresh_token = tokens["refresh_token"]
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    # TODO(performance.load_test): write each journey below. Give a request with an id or a
    # query in its URL a `name=` (the one in the docstring), so the report has one line for it.

    @task(5)
    def read_profile(self) -> None:
        """GET /users/me."""

    @task(5)
    def read_other_user(self) -> None:
        """GET /users/<one of self.known_ids>, reported as "/users/{user_id}"."""

    @task(2)
    def list_users(self) -> None:
        """GET /users with limit=20, reported as "/users?limit=20"; its ids become known_ids."""

    @task(1)
    def update_name(self) -> None:
        """PATCH /users/<your id> with a new full_name, reported as "/users/{user_id} [update]"."""

    @task(1)
    def refresh_tokens(self) -> None:
        """POST /auth/refresh with your refresh token (JSON), then use the new tokens."""
