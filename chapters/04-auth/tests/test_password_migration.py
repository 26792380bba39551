"""The chapter's migration (scaffolding, no exercise marker): accounts that existed before
passwords get a hash nobody can log in with, then the column becomes NOT NULL."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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


async def test_existing_accounts_get_an_unusable_argon2_hash(empty_database_url):
    config = alembic_config(empty_database_url)
    # env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, BEFORE_PASSWORDS)
    engine = create_async_engine(empty_database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'old@example.com')")
        )

    await asyncio.to_thread(command.upgrade, config, "head")

    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT hashed_password FROM users"))
        nullable = await connection.scalar(
            text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'users' AND column_name = 'hashed_password'"
            )
        )
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert stored.startswith("$argon2id$"), f"The old account should get an argon2 hash: {stored}"
    assert nullable == "NO", "users.hashed_password should be NOT NULL after the migration."
    assert differences == [], f"The migrations and the models disagree: {differences}"
