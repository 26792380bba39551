"""Exercise database.model: the typed User model, checked on its table and in PostgreSQL."""

import pytest
from sqlalchemy import DateTime, String
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.users.models import User

pytestmark = pytest.mark.exercise("database.model")

WHERE = "Declare it on User in app/users/models.py (exercise database.model)."


def column(name: str):
    columns = User.__table__.c
    assert name in columns, (
        f"User has no `{name}` column yet; its columns are {list(columns.keys())}. "
        f"Add `{name}: Mapped[...] = mapped_column(...)`. {WHERE}"
    )
    return columns[name]


@pytest.mark.parametrize(
    ("name", "length", "nullable"), [("email", 320, False), ("full_name", 200, True)]
)
def test_text_columns_are_bounded(name, length, nullable):
    found = column(name)

    bounded_text = isinstance(found.type, String) and found.type.length == length
    assert bounded_text, (
        f"User.{name} should be String({length}), the bound its schema enforces; it is "
        f"{found.type!r}. {WHERE}"
    )
    assert found.nullable is nullable, (
        f"User.{name} should be {'optional' if nullable else 'required'}: type it as "
        f"Mapped[{'str | None' if nullable else 'str'}]. {WHERE}"
    )


@pytest.mark.parametrize("name", ["created_at", "updated_at"])
def test_timestamps_are_timezone_aware_and_set_by_the_database(name):
    found = column(name)

    aware = isinstance(found.type, DateTime) and found.type.timezone
    assert aware, (
        f"User.{name} should be DateTime(timezone=True) (timestamptz): a time without a zone "
        f"is ambiguous; it is {found.type!r}. {WHERE}"
    )
    assert found.server_default is not None, (
        f"User.{name} should be filled by PostgreSQL: server_default=func.now(). {WHERE}"
    )
    assert not found.nullable, f"User.{name} should be required: Mapped[datetime]. {WHERE}"
    if name == "updated_at":
        assert found.onupdate is not None or found.server_onupdate is not None, (
            f"User.updated_at should change on every UPDATE: onupdate=func.now(). {WHERE}"
        )


async def test_postgresql_fills_the_id_and_the_timestamps(settings, database_schema):
    for name in ("email", "full_name", "created_at", "updated_at"):
        column(name)
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            user = User(email="model@example.com")
            session.add(user)
            await session.commit()
    finally:
        await engine.dispose()

    assert user.id is not None, "A new User should get a uuid4 id."
    assert user.full_name is None, (
        f"A User made without full_name should have None there; got {user.full_name!r}. "
        f"full_name is Mapped[str | None], with no default. {WHERE}"
    )
    assert getattr(user.created_at, "tzinfo", None) is not None, (
        f"After the insert, created_at should be an aware datetime from PostgreSQL; it is "
        f"{user.created_at!r}. {WHERE}"
    )
