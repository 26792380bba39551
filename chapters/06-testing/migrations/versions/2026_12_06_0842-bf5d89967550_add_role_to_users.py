"""Add users.role: admins manage other users.

Revision ID: bf5d89967550
Revises: 5068fe3b5f88
Create Date: 2026-12-06 08:42:33.866674+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bf5d89967550"
down_revision: str | Sequence[str] | None = "5068fe3b5f88"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default gives every existing row the `user` role, so NOT NULL holds at once;
    # the CHECK constraint (ck_users_role) keeps anything but the two roles out.
    op.add_column(
        "users",
        sa.Column(
            "role",
            sa.Enum(
                "user", "admin", name="role", native_enum=False, create_constraint=True, length=16
            ),
            server_default="user",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "role")
