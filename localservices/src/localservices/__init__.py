"""PostgreSQL and Redis for the workshop's tests, servers and measurements.

Finds the servers (environment URLs, then the local ports, then an embedded fallback), gives
each test session a database and a Redis namespace of its own, and offers them to pytest as
fixtures (`localservices.pytest_plugin`). It knows nothing of the `workshop` command: the
command, every test suite, the benchmarks and the reliability runner import it, never the
other way round.
"""

from localservices.databases import (
    DatabaseCreationRefused,
    DatabaseRight,
    can_create_databases,
    ensure_database,
    temporary_database,
)
from localservices.discovery import (
    NO_EMBEDDED_ENV,
    PLAIN_POSTGRES_URL_ENV,
    PLAIN_REDIS_URL_ENV,
    POSTGRES_URL_ENV,
    REDIS_URL_ENV,
    SOURCE_ENV_SUFFIX,
    Service,
    ServiceUnavailable,
    announce,
    display_location,
    embedded_allowed,
    find_postgres,
    find_redis,
)
from localservices.embedded import start_embedded_postgres, start_embedded_redis
from localservices.namespaces import delete_namespace, new_namespace
from localservices.ports import free_port
from localservices.urls import plain_postgres_url, sqlalchemy_url

__all__ = [
    "NO_EMBEDDED_ENV",
    "PLAIN_POSTGRES_URL_ENV",
    "PLAIN_REDIS_URL_ENV",
    "POSTGRES_URL_ENV",
    "REDIS_URL_ENV",
    "SOURCE_ENV_SUFFIX",
    "DatabaseCreationRefused",
    "DatabaseRight",
    "Service",
    "ServiceUnavailable",
    "announce",
    "can_create_databases",
    "delete_namespace",
    "display_location",
    "embedded_allowed",
    "ensure_database",
    "find_postgres",
    "find_redis",
    "free_port",
    "new_namespace",
    "plain_postgres_url",
    "sqlalchemy_url",
    "start_embedded_postgres",
    "start_embedded_redis",
    "temporary_database",
]
