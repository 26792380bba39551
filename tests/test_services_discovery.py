"""Discovery takes the plain DATABASE_URL and REDIS_URL too (the service's own settings),
after the workshop's variables, and names the variable it used when the server is missing."""

from __future__ import annotations

import pytest

import localservices
from localservices import sqlalchemy_url


@pytest.fixture
def only_plain_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in (localservices.POSTGRES_URL_ENV, localservices.REDIS_URL_ENV):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable + localservices.SOURCE_ENV_SUFFIX, raising=False)
    monkeypatch.setenv("WORKSHOP_POSTGRES_PORT", "1")  # nothing there: no local fallback
    monkeypatch.setenv("WORKSHOP_REDIS_PORT", "1")
    monkeypatch.setenv(localservices.NO_EMBEDDED_ENV, "1")
    return monkeypatch


def test_database_url_names_the_postgres_server(
    only_plain_variables: pytest.MonkeyPatch, postgres_service: localservices.Service
) -> None:
    only_plain_variables.setenv("DATABASE_URL", sqlalchemy_url(postgres_service.url))

    found = localservices.find_postgres()

    assert found.url == localservices.plain_postgres_url(postgres_service.url)
    assert found.source == "environment"
    assert "from DATABASE_URL" in found.describe(), found.describe()


def test_redis_url_names_the_redis_server(
    only_plain_variables: pytest.MonkeyPatch, redis_service: localservices.Service
) -> None:
    only_plain_variables.setenv("REDIS_URL", redis_service.url)

    found = localservices.find_redis()

    assert found.url == redis_service.url
    assert "from REDIS_URL" in found.describe(), found.describe()


def test_the_workshop_variable_wins_over_the_plain_one(
    only_plain_variables: pytest.MonkeyPatch, redis_service: localservices.Service
) -> None:
    only_plain_variables.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    only_plain_variables.setenv(localservices.REDIS_URL_ENV, redis_service.url)

    assert localservices.find_redis().url == redis_service.url


def test_a_dead_plain_url_is_one_sentence_naming_the_variable(
    only_plain_variables: pytest.MonkeyPatch,
) -> None:
    only_plain_variables.setenv("DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")

    with pytest.raises(localservices.ServiceUnavailable, match="from DATABASE_URL"):
        localservices.find_postgres()
