"""Migrations: from an empty database, `upgrade head` gives exactly the models' schema,
and `downgrade base` removes it again."""

import asyncio
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import Base
from localservices import temporary_database

FINAL_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_database_url(postgres_service):
    with temporary_database(postgres_service.url, label="migrations") as url:
        yield url


def alembic_config(database_url: str) -> Config:
    config = Config(str(FINAL_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["configure_logging"] = False  # keep the test run's logging as it is
    return config


async def schema_state(database_url: str) -> tuple[list, set[str]]:
    """(differences between the database and the models, the tables present)."""
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:

        def inspect_schema(sync_connection):
            context = MigrationContext.configure(sync_connection)
            differences = compare_metadata(context, Base.metadata)
            return differences, set(inspect(sync_connection).get_table_names())

        state = await connection.run_sync(inspect_schema)
    await engine.dispose()
    return state


async def test_upgrade_gives_exactly_the_models_schema_and_downgrade_removes_it(
    empty_database_url,
):
    config = alembic_config(empty_database_url)

    # env.py runs its own event loop: give it a thread of its own.
    await asyncio.to_thread(command.upgrade, config, "head")
    differences, tables = await schema_state(empty_database_url)

    assert differences == [], f"the migrations and the models disagree: {differences}"
    assert {"users", "alembic_version"} <= tables

    await asyncio.to_thread(command.downgrade, config, "base")
    _, tables_after_downgrade = await schema_state(empty_database_url)
    assert tables_after_downgrade == {"alembic_version"}

    await asyncio.to_thread(command.upgrade, config, "head")  # and back up: reversible
    differences, _ = await schema_state(empty_database_url)
    assert differences == []


def test_migrations_form_one_line_and_are_named_by_date():
    scripts = ScriptDirectory.from_config(Config(str(FINAL_DIR / "alembic.ini")))

    assert len(scripts.get_heads()) == 1, "one head: no unmerged branches"
    for revision in scripts.walk_revisions():
        name = Path(revision.path).name
        assert re.match(r"\d{4}_\d{2}_\d{2}_\d{4}-", name), f"{name} should start with its date"
