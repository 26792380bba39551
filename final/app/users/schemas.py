"""What the API accepts and returns for users. The password hash is never part of it."""

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Self
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


def _offer_no_null(schema: dict[str, Any]) -> None:
    """A nullable field's JSON schema without its null branch, for a field that refuses null."""
    (offered,) = [branch for branch in schema.pop("anyOf") if branch.get("type") != "null"]
    schema.update(offered)


# Null passes the type (a plain `X | None`, so a bad value is one error naming the field, not
# one per union branch) and is refused by a validator; the schema does not offer it, so that
# clients generated from the OpenAPI document do not send what the service rejects.
NotNull = Field(json_schema_extra=_offer_no_null)


class UserCreate(BaseModel):
    """Registration. Unknown fields (`role`, `id`, ...) are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """What users may change about themselves; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[EmailStr | None, NotNull] = None
    password: Annotated[Password | None, NotNull] = None
    full_name: FullName | None = None  # null clears the name

    @model_validator(mode="after")
    def refuse_null_required_fields(self) -> Self:
        for name in ("email", "password"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


class AdminUserUpdate(UserUpdate):
    """What an admin may change about anyone: the role as well."""

    role: Annotated[Role | None, NotNull] = None

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
