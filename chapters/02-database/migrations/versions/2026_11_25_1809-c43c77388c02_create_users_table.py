"""Create the users table, with its case-insensitive unique email index.

Revision ID: c43c77388c02
Revises:
Create Date: 2026-11-25 18:09:34.345533+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401  (upgrade and downgrade need them)
from alembic import op  # noqa: F401

revision: str = "c43c77388c02"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # TODO(database.migration): build the schema app/users/models.py declares, as the
    # database will hold it in production: the users table (every column with its type,
    # nullability and server default; the primary key named pk_users) and the unique index
    # ix_users_email on lower(email). Keep the header above: chapter 04's migration builds on
    # revision c43c77388c02. Alembic can draft this for you from the models.
    pass


def downgrade() -> None:
    # TODO(database.migration): undo upgrade(), in reverse order, so that a release can be
    # rolled back.
    pass
