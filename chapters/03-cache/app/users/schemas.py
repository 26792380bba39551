"""What the API accepts and returns for users: bounded input, and never more than it should."""

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
    StringConstraints,
    model_validator,
)


def reject_unstorable_characters(value: str) -> str:
    """Control characters and lone surrogates: PostgreSQL cannot store them, nobody types them."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise ValueError("must not contain control characters")
    return value


# What the validators allow, said in the OpenAPI schema for the clients (Cc characters are
# U+0000-001F and U+007F-009F); the validator is what enforces it.
PRINTABLE_NOT_BLANK = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
# The bounds match the columns (users/models.py): a longer value is a 422, not a 500.
FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_unstorable_characters),
    Field(json_schema_extra={"pattern": PRINTABLE_NOT_BLANK}),
]
Email = Annotated[
    EmailStr,
    Field(
        max_length=320,
        description="An address that can receive mail: its domain needs a dot, and the "
        "special-use names of RFC 6761 and RFC 6762 (.test, .invalid, .localhost, .local, "
        "...) are refused. Stored with its domain in lower case; unique whatever the case.",
        examples=["ada@example.com"],
    ),
]


def _offer_no_null(schema: dict[str, Any]) -> None:
    """A nullable field's JSON schema without its null branch, for a field that refuses null."""
    (offered,) = [branch for branch in schema.pop("anyOf") if branch.get("type") != "null"]
    schema.update(offered)


# Null passes the type (a plain `X | None`, so a bad value is one error naming the field, not
# one per union branch) and is refused by a validator; the schema does not offer it, so that
# clients generated from the OpenAPI document do not send what the service rejects.
NotNull = Field(json_schema_extra=_offer_no_null)


def _refuse_null(model: BaseModel, *names: str) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null; leave it out to keep it")


class UserCreate(BaseModel):
    """Registration. Unknown fields (`id`, ...) are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """Fields a user has; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Email | None, NotNull] = None
    full_name: FullName | None = None  # null clears the name

    @model_validator(mode="after")
    def refuse_null_required_fields(self) -> Self:
        _refuse_null(self, "email")
        return self


class UserRead(BaseModel):
    """A user as the API shows it."""

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
