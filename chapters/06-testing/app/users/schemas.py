"""What the API accepts and returns for users. The password hash is never part of it."""

import unicodedata
from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)


def reject_unstorable_characters(value: str) -> str:
    """Control characters and lone surrogates: PostgreSQL cannot store them, nobody types them."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise ValueError("must not contain control characters")
    return value


# The bounds match the columns (users/models.py): a longer value is a 422, not a 500.
FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_unstorable_characters),
]
# Long enough for a passphrase, short enough that hashing it stays cheap. SecretStr keeps it
# out of reprs and logs.
Password = Annotated[SecretStr, Field(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    """Registration. Unknown fields (`id`, ...) are refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """A partial update: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    password: Password | None = None
    full_name: FullName | None = None

    @model_validator(mode="after")
    def refuse_null_required_fields(self) -> Self:
        # `"full_name": null` clears the name; an account cannot be without these two.
        for name in ("email", "password"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str | None
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int
