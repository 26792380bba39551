"""The chapter's migrations (scaffolding, no exercise marker): accounts that existed before
passwords get a hash nobody can log in with, every account gets the `user` role, and the
migrated schema matches the models."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.database import Base
from localservices import temporary_database

CHAPTER_DIR = Path(__file__).resolve().parents[1]
BEFORE_PASSWORDS = "c43c77388c02"  # chapter 02's migration: the users table


@pytest.fixture
def empty_database_url(postgres_service):
    with temporary_database(postgres_service.url, label="migrations") as url:
        yield url


def alembic_config(database_url: str) -> Config:
    config = Config(str(CHAPTER_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logging"] = False  # keep the test run's logging as it is
    return config


async def test_existing_accounts_get_an_unusable_hash_and_the_user_role(empty_database_url):
    config = alembic_config(empty_database_url)
    # env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, BEFORE_PASSWORDS)
    engine = create_async_engine(empty_database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'old@example.com')")
        )

    await asyncio.to_thread(command.upgrade, config, "head")

    async with engine.connect() as connection:
        stored, role = (
            await connection.execute(text("SELECT hashed_password, role FROM users"))
        ).one()
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    with pytest.raises(IntegrityError, match="ck_users_role"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE users SET role = 'root'"))
    await engine.dispose()
    assert stored.startswith("$argon2id$"), f"The old account should get an argon2 hash: {stored}"
    assert role == "user", f"Accounts from before roles should be plain users, not {role!r}."
    assert differences == [], f"The migrations and the models disagree: {differences}"
