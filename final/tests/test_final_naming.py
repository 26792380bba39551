"""Constraints and indexes are named by one convention, in the models and in the database.

Names matter: the service maps a unique violation to 409 by its index's name, and a migration
can only drop or alter a constraint it can name the same way on every database.
"""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import NAMING_CONVENTION, Base
from app.users.models import email_unique_index
from localservices import temporary_database

FINAL_DIR = Path(__file__).resolve().parents[1]

EXPECTED_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# pg_constraint.contype -> the prefix its name must carry.
CONSTRAINT_PREFIXES = {"p": "pk", "u": "uq", "c": "ck", "f": "fk"}
# What the users table must hold, whether the models or the migrations made it.
USERS_NAMES = {
    "constraints": {("pk_users", "p"), ("ck_users_role", "c")},
    "indexes": {"pk_users", "ix_users_email"},
}


def test_the_metadata_carries_the_naming_convention():
    convention = {key: Base.metadata.naming_convention.get(key) for key in EXPECTED_CONVENTION}

    assert convention == EXPECTED_CONVENTION, (
        "Base.metadata must be MetaData(naming_convention=NAMING_CONVENTION) (app/database.py)"
    )
    assert NAMING_CONVENTION == EXPECTED_CONVENTION
    assert email_unique_index.name == "ix_users_email", (
        "the email index is named by the convention; users/service.py maps its violations to 409"
    )


async def names_in(database_url: str) -> dict[str, set]:
    """The constraint and index names of the models' tables in a database."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            constraints = await connection.execute(
                text(
                    "SELECT c.conname, c.contype::text, t.relname FROM pg_constraint c "
                    "JOIN pg_class t ON t.oid = c.conrelid "
                    "WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY(:tables)"
                ),
                {"tables": tables},
            )
            indexes = await connection.execute(
                text(
                    "SELECT indexname, tablename FROM pg_indexes "
                    "WHERE schemaname = 'public' AND tablename = ANY(:tables)"
                ),
                {"tables": tables},
            )
            return {"constraints": set(constraints.all()), "indexes": set(indexes.all())}
    finally:
        await engine.dispose()


def assert_named_by_the_convention(names: dict[str, set], made_by: str) -> None:
    for name, kind, table in names["constraints"]:
        prefix = CONSTRAINT_PREFIXES.get(kind)
        if prefix == "pk":
            assert name == f"pk_{table}", f"{made_by}: primary key {name!r} of {table}"
        elif prefix:
            assert name.startswith(f"{prefix}_{table}_"), f"{made_by}: {name!r} on {table}"
    constraint_names = {name for name, _, _ in names["constraints"]}
    for name, table in names["indexes"]:
        if name not in constraint_names:  # a constraint's own index carries its name
            assert name.startswith(f"ix_{table}_"), f"{made_by}: index {name!r} on {table}"
    users = {
        "constraints": {
            (name, kind) for name, kind, table in names["constraints"] if table == "users"
        },
        "indexes": {name for name, table in names["indexes"] if table == "users"},
    }
    assert users == USERS_NAMES, f"{made_by}: the users table's names"


async def test_tables_made_from_the_models_are_named_by_the_convention(
    database_url, database_schema
):
    names = await names_in(database_url)

    assert_named_by_the_convention(names, "the models (create_all)")


@pytest.fixture
def empty_database_url(postgres_service):
    with temporary_database(postgres_service.url, label="naming") as url:
        yield url


async def test_the_migrated_database_is_named_by_the_convention(empty_database_url):
    config = Config(str(FINAL_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", empty_database_url)
    config.attributes["configure_logging"] = False

    # env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, "head")
    names = await names_in(empty_database_url)

    assert_named_by_the_convention(names, "the migrations (alembic upgrade head)")
