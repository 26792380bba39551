"""Test data, made before a run so that no scenario measures making it.

Users go straight into PostgreSQL, all with one precomputed argon2 hash: registering 500
users through the API would spend 500 argon2 hashes (about 0.2 s of CPU each) before the
first measurement. Tokens come from the API itself (`POST /auth/token`), as a client gets
them, so they are exactly what the service issues.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import asyncpg
import httpx

SEED_PASSWORD = "benchmark-password-1234"
EMAIL_DOMAIN = "bench.example.com"
LOGIN_CONCURRENCY = 4  # about the argon2 threads of two workers: more would only queue


class SeedError(RuntimeError):
    """Seeding failed; the message names the column or the request that did."""


@dataclass(frozen=True)
class SeededUser:
    id: str
    email: str


@dataclass(frozen=True)
class TokenPair:
    user_id: str
    email: str
    access_token: str
    refresh_token: str


def seed_email(index: int) -> str:
    return f"user-{index:05d}@{EMAIL_DOMAIN}"


# The finished service's argon2 defaults (final/app/config.py; a test keeps them equal), so a
# login verifies the seeded hash without rehashing it. The chapters verify it as it is.
class HashParameters(TypedDict):
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int


SEED_HASH_PARAMETERS: HashParameters = {"time_cost": 3, "memory_cost": 65536, "parallelism": 1}


def password_hash() -> str:
    """One argon2 hash of SEED_PASSWORD with the service's parameters (64 MiB, 3 passes,
    1 lane)."""
    from pwdlib.hashers.argon2 import Argon2Hasher

    return Argon2Hasher(**SEED_HASH_PARAMETERS).hash(SEED_PASSWORD)


# --- users, straight into the table -------------------------------------------------------

_COLUMNS_QUERY = """
SELECT column_name, data_type,
       is_nullable = 'YES' AS nullable, column_default IS NOT NULL AS has_default
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'users'
ORDER BY ordinal_position
"""


def _value_makers(hashed: str, now: datetime) -> dict[str, Callable[[int], object]]:
    """What each column a chapter's `users` table may have gets, by column name."""
    return {
        "email": seed_email,
        "full_name": lambda index: f"Bench User {index}",
        "hashed_password": lambda index: hashed,
        "role": lambda index: "user",
        "is_active": lambda index: True,
        "created_at": lambda index: now,
        "updated_at": lambda index: now,
    }


async def _seed_users(database_url: str, count: int) -> list[SeededUser]:
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        columns = await connection.fetch(_COLUMNS_QUERY)
        if not columns:
            raise SeedError("the database has no `users` table: did the migrations run?")
        needs_hash = any(column["column_name"] == "hashed_password" for column in columns)
        makers = _value_makers(password_hash() if needs_hash else "", datetime.now(UTC))
        chosen: list[str] = []
        for column in columns:
            name = column["column_name"]
            if name == "id" and not column["has_default"]:
                if column["data_type"] != "uuid":
                    raise SeedError(f"users.id is {column['data_type']} without a default.")
                makers["id"] = lambda index: uuid.uuid4()
            if name in makers:
                chosen.append(name)
            elif not column["nullable"] and not column["has_default"]:
                raise SeedError(f"users.{name} is required and the seeder does not know it.")
        records = [tuple(makers[name](index) for name in chosen) for index in range(count)]
        await connection.copy_records_to_table("users", records=records, columns=chosen)
        rows = await connection.fetch(
            "SELECT id::text AS id, email FROM users WHERE email LIKE $1 ORDER BY email",
            f"%@{EMAIL_DOMAIN}",
        )
    finally:
        await connection.close()
    return [SeededUser(id=row["id"], email=row["email"]) for row in rows]


def seed_users(database_url: str, *, count: int) -> list[SeededUser]:
    """Insert `count` users (plain `postgresql://` URL) and return them in email order."""
    return asyncio.run(_seed_users(database_url, count))


# --- tokens, through the API --------------------------------------------------------------


async def _log_in(base_url: str, users: list[SeededUser]) -> list[TokenPair]:
    limit = asyncio.Semaphore(LOGIN_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def log_in(user: SeededUser) -> TokenPair:
            async with limit:
                response = await client.post(
                    "/auth/token", data={"username": user.email, "password": SEED_PASSWORD}
                )
            if response.status_code != 200:
                raise SeedError(
                    f"logging in {user.email} answered {response.status_code}: "
                    f"{response.text[:300]}"
                )
            body = response.json()
            return TokenPair(user.id, user.email, body["access_token"], body["refresh_token"])

        return list(await asyncio.gather(*(log_in(user) for user in users)))


def log_in(base_url: str, users: list[SeededUser]) -> list[TokenPair]:
    """One login per user, a few at a time; each is a real argon2 verify on the server."""
    return asyncio.run(_log_in(base_url, users)) if users else []


def has_login(base_url: str) -> bool:
    """Does this service issue tokens? (Chapters before 04 do not.) Asked of the route itself:
    an empty login form is refused (422) where the route exists, 404 where it does not. The
    OpenAPI document would say too, but production does not publish it."""
    response = httpx.post(f"{base_url}/auth/token", timeout=10)
    return response.status_code != 404


# --- what the Locust processes read -------------------------------------------------------


def write_seed_file(
    path: Path, *, users: list[SeededUser], tokens: list[TokenPair], has_auth: bool
) -> Path:
    """The JSON that benchmarks/scenarios/seeded.py reads in every Locust process."""
    path.write_text(
        json.dumps(
            {
                "password": SEED_PASSWORD,
                "has_auth": has_auth,
                "users": [asdict(user) for user in users],
                "tokens": [asdict(pair) for pair in tokens],
            }
        )
    )
    return path
