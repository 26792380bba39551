"""Add users.hashed_password: accounts get passwords.

Revision ID: 5068fe3b5f88
Revises: c43c77388c02
Create Date: 2026-11-25 18:15:10.828848+00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pwdlib import PasswordHash

revision: str = "5068fe3b5f88"
down_revision: str | Sequence[str] | None = "c43c77388c02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Three steps, because rows that already exist need a value before the column can be
    # NOT NULL. They get the hash of a secret nobody knows: no password logs into them.
    op.add_column("users", sa.Column("hashed_password", sa.String(length=255), nullable=True))
    unusable = PasswordHash.recommended().hash(secrets.token_urlsafe(32))
    op.execute(sa.text("UPDATE users SET hashed_password = :hashed").bindparams(hashed=unusable))
    op.alter_column("users", "hashed_password", nullable=False)


def downgrade() -> None:
    op.drop_column("users", "hashed_password")
