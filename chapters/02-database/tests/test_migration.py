"""Exercise database.migration: from an empty database, `alembic upgrade head` gives the
models' schema, and `alembic downgrade base` takes it away again."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.database import Base
from workshop.services import temporary_database

pytestmark = pytest.mark.exercise("database.migration")

CHAPTER = Path(__file__).resolve().parents[1]
MIGRATION = "migrations/versions/2026_11_25_1809-c43c77388c02_create_users_table.py"
WHERE = f"Write upgrade() and downgrade() in {MIGRATION} (exercise database.migration)."
EXPECTED_COLUMNS = {
    "id": (False, "UUID"),
    "email": (False, "VARCHAR(320)"),
    "full_name": (True, "VARCHAR(200)"),
    "created_at": (False, "TIMESTAMP"),
    "updated_at": (False, "TIMESTAMP"),
}


@pytest.fixture
def empty_database_url(postgres_service):
    with temporary_database(postgres_service.url, label="migration") as url:
        yield url


def alembic_config(database_url: str) -> Config:
    config = Config(str(CHAPTER / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logging"] = False  # leave pytest's logging alone
    return config


async def migrate(database_url: str, direction: str, target: str) -> None:
    # env.py runs its own event loop (asyncio.run): give it a thread of its own.
    step = command.upgrade if direction == "upgrade" else command.downgrade
    await asyncio.to_thread(step, alembic_config(database_url), target)


async def schema_of(database_url: str) -> dict:
    """The tables, the users columns and indexes, and the differences from the models."""
    engine = create_async_engine(database_url, poolclass=NullPool)

    def inspect_schema(connection) -> dict:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        users = "users" in tables
        return {
            "tables": tables,
            "columns": {
                column["name"]: (column["nullable"], str(column["type"]))
                for column in (inspector.get_columns("users") if users else [])
            },
            "indexes": {
                index["name"]: index for index in (inspector.get_indexes("users") if users else [])
            },
            "differences": compare_metadata(MigrationContext.configure(connection), Base.metadata),
        }

    async with engine.connect() as connection:
        schema = await connection.run_sync(inspect_schema)
    await engine.dispose()
    return schema


async def test_upgrade_creates_the_users_table_as_the_models_declare_it(empty_database_url):
    await migrate(empty_database_url, "upgrade", "head")
    schema = await schema_of(empty_database_url)

    assert "users" in schema["tables"], (
        f"After `alembic upgrade head` an empty database should have a users table; it has "
        f"{sorted(schema['tables'])}. {WHERE}"
    )
    found = {
        name: (nullable, kind.split(" ")[0]) for name, (nullable, kind) in schema["columns"].items()
    }
    assert found == EXPECTED_COLUMNS, (
        f"The migrated users table should have the columns (nullable, type) "
        f"{EXPECTED_COLUMNS}; it has {found}. {WHERE}"
    )
    email_index = schema["indexes"].get("ix_users_email") or {}
    on_lower_email = any("lower" in str(e) for e in email_index.get("expressions") or [])
    assert (bool(email_index.get("unique")), on_lower_email) == (True, True), (
        f"The migration should create the unique index ix_users_email on lower(email); the "
        f"indexes are {sorted(schema['indexes'])}. {WHERE}"
    )
    assert schema["differences"] == [], (
        f"The migrated schema and the models (Base.metadata) should agree; Alembic finds these "
        f"differences: {schema['differences']}. {WHERE}"
    )


async def test_downgrade_removes_what_upgrade_made(empty_database_url):
    await migrate(empty_database_url, "upgrade", "head")
    assert "users" in (await schema_of(empty_database_url))["tables"], (
        f"`alembic upgrade head` should create the users table first. {WHERE}"
    )

    await migrate(empty_database_url, "downgrade", "base")
    left = (await schema_of(empty_database_url))["tables"]

    assert left == {"alembic_version"}, (
        f"After `alembic downgrade base` only alembic_version should remain; found "
        f"{sorted(left)}. downgrade() should drop the index, then the table. {WHERE}"
    )
    await migrate(empty_database_url, "upgrade", "head")  # and up again: it is reversible
