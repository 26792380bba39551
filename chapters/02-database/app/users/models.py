"""The `users` table."""

import uuid
from typing import ClassVar

from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base


class User(Base):
    __tablename__ = "users"
    # Fetch server-made values (timestamps) with RETURNING: an expired attribute would need
    # a lazy load, which async SQLAlchemy cannot do behind your back.
    __mapper_args__: ClassVar = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # TODO(database.model): add `email` (required, at most 320 characters), `full_name`
    # (optional, at most 200), and `created_at` / `updated_at`: timezone-aware, filled by the
    # database with now(), and updated_at set again by every UPDATE.


# TODO(database.unique_email): add `email_unique_index`, a unique index on lower(email), so
# the database itself refuses Alice@example.com once alice@example.com exists. Pass None as
# its name: the naming convention in app/database.py names it ix_users_email.
