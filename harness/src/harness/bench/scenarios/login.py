"""Login: `POST /auth/token` with a seeded user's email and password.

Bounded by password hashing on purpose: every login is one argon2 verify, about 130 ms of one
core here, which is what makes guessing passwords expensive. Its throughput is therefore
roughly (cores ÷ 0.13 s), whatever the framework; the figure shows that cost, not a defect.
"""

from locust import FastHttpUser, constant, task

from harness.bench.scenarios import seeded


class LoginUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def log_in(self) -> None:
        body, headers = seeded.login_form(seeded.random_email())
        self.client.post("/auth/token", data=body, headers=headers)
