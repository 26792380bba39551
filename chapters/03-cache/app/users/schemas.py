"""What the API accepts and returns for users: bounded input, and never more than it should."""

import unicodedata
from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
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


class UserCreate(BaseModel):
    """Registration. Unknown fields (`id`, ...) are refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """A partial update: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    full_name: FullName | None = None

    @model_validator(mode="after")
    def refuse_null_email(self) -> Self:
        # `"full_name": null` clears the name; an account cannot be without an email.
        if "email" in self.model_fields_set and self.email is None:
            raise ValueError("email cannot be null; leave it out to keep it")
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
