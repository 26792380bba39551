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
    # TODO(database.model): the rest of a user, as app/users/schemas.py describes it: a
    # required email and an optional full name, each bounded like its schema field (so the
    # API refuses with a 422 what the table could not store, instead of a 500), and the times
    # it was created and last updated. Those two are filled in by PostgreSQL itself (the
    # clock of one server, not of each app process), carry their time zone (a time without
    # one is ambiguous), and the second changes on every UPDATE.


# TODO(database.unique_email): one account per address, whatever its letter case
# (Alice@example.com and alice@example.com are the same mailbox), enforced by the database
# itself: two registrations that race both pass any check made before they write. Let the
# naming convention of app/database.py name it (ix_users_email): the service recognises it
# by that name when it refuses a row.
