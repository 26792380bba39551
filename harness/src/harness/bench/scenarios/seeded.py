"""The data the runner seeded before the run, as the simulated users see it.

The runner writes a JSON file (the seeded users, their password, token pairs that the service
issued through `POST /auth/token`) and names it in `BENCH_SEED_FILE`; each Locust process
reads it once. Nothing is created during the measured run except what a scenario measures.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:  # importing Locust patches the process with gevent: only Locust's may
    from locust.env import Environment

SEED_FILE_ENV = "BENCH_SEED_FILE"
GENERATOR_PROCESSES_ENV = "BENCH_GENERATOR_PROCESSES"

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Seed:
    password: str
    has_auth: bool
    user_ids: list[str]
    emails: list[str]
    tokens: list[dict[str, str]]


@functools.cache
def load() -> Seed:
    path = os.environ.get(SEED_FILE_ENV)
    if not path:
        raise RuntimeError(f"{SEED_FILE_ENV} is not set: run the scenarios through the runner.")
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    return Seed(
        password=data["password"],
        has_auth=data["has_auth"],
        user_ids=[user["id"] for user in data["users"]],
        emails=[user["email"] for user in data["users"]],
        tokens=data["tokens"],
    )


def random_user_id() -> str:
    return random.choice(load().user_ids)


def random_email() -> str:
    return random.choice(load().emails)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def shared_headers() -> dict[str, str]:
    """Headers of a reader: a token from the shared pool, or none for a service without auth."""
    tokens = load().tokens
    return bearer(random.choice(tokens)["access_token"]) if tokens else {}


def login_form(email: str) -> tuple[str, dict[str, str]]:
    """The OAuth2 password form for a seeded user: (body, headers)."""
    return urlencode({"username": email, "password": load().password}), FORM_HEADERS


_next_in_this_process = itertools.count()


def personal_tokens(environment: Environment) -> dict[str, str]:
    """A token pair that no other simulated user holds, in any Locust process.

    Users that refresh or log out spend their tokens; two users sharing a pair would see the
    service's reuse detection revoke it. Process `w` of `P` hands out pairs w, w+P, w+2P...
    """
    processes = int(os.environ.get(GENERATOR_PROCESSES_ENV) or 1)
    # Local and worker runners number their process; Locust's base Runner type has no index.
    worker: int = getattr(environment.runner, "worker_index", -1)
    if worker < 0:
        raise RuntimeError("this Locust worker has no index yet; it cannot pick its tokens.")
    index = next(_next_in_this_process) * processes + worker
    tokens = load().tokens
    if index >= len(tokens):
        raise RuntimeError(f"user {index} has no seeded token pair ({len(tokens)} were seeded).")
    return dict(tokens[index])


# Accounts that scenarios register live apart from the seeded ones (see seed.EMAIL_DOMAIN).
NEW_ACCOUNT_DOMAIN = "new.example.com"
