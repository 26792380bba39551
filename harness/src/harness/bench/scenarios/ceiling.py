"""The bare framework ceiling: `GET /ping` on plain FastAPI, as fast as it answers."""

from locust import FastHttpUser, constant, task


class CeilingUser(FastHttpUser):
    # Closed loop: each user sends its next request as soon as the last one is answered.
    wait_time = constant(0)

    @task
    def ping(self) -> None:
        self.client.get("/ping")
