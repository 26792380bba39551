"""Worked section auth.default_key_warning (given code, no exercise marker): a service that
starts with the public default SECRET_KEY says so, loudly, because anyone can sign tokens it
accepts. Production refuses that key outright (chapter 01's guard)."""

import logging

import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr, ValidationError

from app.config import DEFAULT_SECRET_KEY, Settings
from app.main import create_app


async def start_and_stop(settings: Settings) -> None:
    async with LifespanManager(create_app(settings)):
        pass


def key_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and "SECRET_KEY" in record.getMessage()
    ]


async def test_the_public_default_key_is_announced_at_start_up(settings, database_schema, caplog):
    caplog.set_level(logging.WARNING, logger="app")

    await start_and_stop(settings.model_copy(update={"secret_key": SecretStr(DEFAULT_SECRET_KEY)}))

    assert key_warnings(caplog), (
        "Starting with SECRET_KEY=change-me should log a warning that names SECRET_KEY: the "
        "key is public, so anyone can sign an admin's token. app/main.py's lifespan says so."
    )


async def test_a_key_of_its_own_starts_quietly(settings, database_schema, caplog):
    caplog.set_level(logging.WARNING, logger="app")

    await start_and_stop(settings)

    assert key_warnings(caplog) == [], "A key of its own is nothing to warn about."


def test_production_refuses_the_default_key(settings):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            _env_file=None,
            **{**settings.model_dump(), "environment": "production", "secret_key": "change-me"},
        )
