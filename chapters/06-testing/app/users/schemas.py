"""What the API accepts and returns for users. The password hash is never part of it."""

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
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
from pydantic_core import PydanticCustomError

from app.users.models import Role


def reject_unstorable_characters(value: str) -> str:
    """Control characters and lone surrogates: PostgreSQL cannot store them, nobody types them."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise ValueError("must not contain control characters")
    return value


PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


def within_password_length(value: SecretStr) -> SecretStr:
    """The length bounds, said in characters: pydantic's own bounds on a SecretStr would
    answer "at least 8 items"."""
    length = len(value.get_secret_value())
    if length < PASSWORD_MIN_LENGTH:
        raise PydanticCustomError(
            "string_too_short",
            "String should have at least {min_length} characters",
            {"min_length": PASSWORD_MIN_LENGTH},
        )
    if length > PASSWORD_MAX_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": PASSWORD_MAX_LENGTH},
        )
    return value


def reject_lone_surrogates(value: SecretStr) -> SecretStr:
    """A lone surrogate ("\\ud800") cannot be encoded to UTF-8, which hashing needs."""
    if any(unicodedata.category(char) == "Cs" for char in value.get_secret_value()):
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)")
    return value


def canonical_email(text: str) -> str:
    """The one form an address is stored and looked up in: email-validator's normalization
    (the domain in lower case, the whole in Unicode NFC). Letter case is compared by
    PostgreSQL's lower() on both sides, never by Python's, whose rules differ (İ, Σ)."""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return text  # no account has it: the lookup simply finds nothing


# What the validators allow, said in the OpenAPI schema for the clients (Cc characters are
# U+0000-001F and U+007F-009F); the validator is what enforces it.
PRINTABLE_NOT_BLANK = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
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
# Long enough for a passphrase, short enough that hashing it stays cheap.
Password = Annotated[
    SecretStr,
    AfterValidator(within_password_length),
    AfterValidator(reject_lone_surrogates),
    Field(json_schema_extra={"minLength": PASSWORD_MIN_LENGTH, "maxLength": PASSWORD_MAX_LENGTH}),
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
    """Registration. Unknown fields (`role`, `id`, ...) are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """Fields a user has; only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Email | None, NotNull] = None
    password: Annotated[Password | None, NotNull] = None
    full_name: FullName | None = None  # null clears the name

    @model_validator(mode="after")
    def refuse_null_required_fields(self) -> Self:
        _refuse_null(self, "email", "password")
        return self

    @property
    def changes_credentials(self) -> bool:
        """A new email or password: what a stolen token must not be enough to change."""
        return bool({"email", "password"} & self.model_fields_set)


class AccountUpdate(UserUpdate):
    """What users may change about themselves. A new email or password needs the current
    password as well: a stolen access token alone must not take the account over."""

    # Said in the schema too, so that clients made from it send what the service accepts.
    model_config = ConfigDict(
        json_schema_extra={
            "dependentRequired": {"email": ["current_password"], "password": ["current_password"]}
        }
    )

    current_password: Annotated[
        SecretStr | None,
        NotNull,
        Field(max_length=128, description="Needed to change the email or the password."),
    ] = None

    @model_validator(mode="after")
    def require_current_password(self) -> Self:
        _refuse_null(self, "current_password")
        if self.changes_credentials and self.current_password is None:
            raise ValueError("current_password is needed to change the email or the password")
        return self


class AdminUserUpdate(UserUpdate):
    """What an admin may change about anyone: the role as well."""

    role: Annotated[Role | None, NotNull] = None

    @model_validator(mode="after")
    def refuse_null_role(self) -> Self:
        _refuse_null(self, "role")
        return self


class UserRead(BaseModel):
    """A user as the user itself and admins see it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str | None
    role: Role
    created_at: datetime
    updated_at: datetime


class UserPublic(BaseModel):
    """A user as any other logged-in user sees it: no email, no role."""

    id: UUID
    full_name: str | None


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int
