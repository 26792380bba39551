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
from pydantic.json_schema import SkipJsonSchema

from app.users.models import Role


def reject_unstorable_characters(value: str) -> str:
    """Control characters and lone surrogates: PostgreSQL cannot store them, nobody types them."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise ValueError("must not contain control characters")
    return value


# What the validators allow, said in the OpenAPI schema for the clients (Cc characters are
# U+0000-001F and U+007F-009F); the validator is what enforces it.
PRINTABLE_NOT_BLANK = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_unstorable_characters),
    Field(json_schema_extra={"pattern": PRINTABLE_NOT_BLANK}),
]
# Long enough for a passphrase, short enough that hashing it stays cheap.
Password = Annotated[SecretStr, Field(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    """Registration. Unknown fields (`role`, `id`, ...) are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """What users may change about themselves; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    # Null is refused below, so the schema does not offer it (SkipJsonSchema): clients
    # generated from the OpenAPI document must not send what the service rejects.
    email: EmailStr | SkipJsonSchema[None] = None
    password: Password | SkipJsonSchema[None] = None
    full_name: FullName | None = None  # null clears the name

    @model_validator(mode="after")
    def refuse_null_required_fields(self) -> Self:
        for name in ("email", "password"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class AdminUserUpdate(UserUpdate):
    """What an admin may change about anyone: the role as well."""

    role: Role | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def refuse_null_role(self) -> Self:
        if "role" in self.model_fields_set and self.role is None:
            raise ValueError("role cannot be null; leave it out to keep it")
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str | None
    role: Role
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int
