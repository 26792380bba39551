"""The mixed user journey: what a population of signed-in app users asks of the service.

Each simulated user starts signed in (a token pair the runner obtained before the run) and
then, task by task, does what real users of a user directory do, in the proportions they do
it. The weights are per thousand tasks:

    read another user by id    486   the app shows people: the bulk of the traffic
    read own profile           300   every screen shows who is signed in
    list a page of users       150   browsing the directory
    update own profile          40   an occasional edit
    refresh the token           20   an access token lives 15 minutes, a session longer
    log out, then log in         3   refresh tokens live two weeks: sign-ins are rare
    register a new account       1   new accounts are a small share of active users

Login and registration cost an argon2 hash (about 130 ms of one core) on purpose. In a real user
base they are a fraction of a percent of the requests, as here; were they one request in a
hundred, the journey's p99 would be the argon2 cost by construction, whatever the service.
The think time is that of an app making calls, not of a person reading a page.
"""

import itertools
import uuid

from locust import FastHttpUser, between, task

from harness.bench.scenarios import seeded

_new_names = itertools.count()


class JourneyUser(FastHttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self) -> None:
        pair = seeded.personal_tokens(self.environment)
        self.email = pair["email"]
        self._keep(pair)

    def _keep(self, pair: dict[str, str]) -> None:
        self.access_token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]
        self.headers = seeded.bearer(self.access_token)

    # Listing users is for admins: a user's journey reads others by their public fields.
    @task(636)
    def read_another_user(self) -> None:
        user_id = seeded.random_user_id()
        self.client.get(f"/users/{user_id}", headers=self.headers, name="/users/{id}")

    @task(300)
    def read_own_profile(self) -> None:
        self.client.get("/users/me", headers=self.headers)

    @task(40)
    def update_own_profile(self) -> None:
        change = {"full_name": f"Journey User {next(_new_names)}"}
        self.client.patch("/users/me", json=change, headers=self.headers)

    @task(20)
    def refresh_the_token(self) -> None:
        with self.client.post(
            "/auth/refresh", json={"refresh_token": self.refresh_token}, catch_response=True
        ) as response:
            if response.status_code == 200:
                self._keep(response.json())

    @task(3)
    def log_out_and_in(self) -> None:
        self.client.post("/auth/logout", headers=self.headers)
        body, headers = seeded.login_form(self.email)
        with self.client.post(
            "/auth/token", data=body, headers=headers, catch_response=True
        ) as response:
            if response.status_code == 200:
                self._keep(response.json())

    @task(1)
    def register(self) -> None:
        account = {
            "email": f"journey-{uuid.uuid4().hex[:16]}@{seeded.NEW_ACCOUNT_DOMAIN}",
            "password": seeded.load().password,
            "full_name": "New Journey User",
        }
        self.client.post("/users", json=account)
