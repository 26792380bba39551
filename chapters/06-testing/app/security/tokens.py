"""JWTs: the ONLY module that imports jose. HS256 and nothing else, ever.

Every token carries `sub` (the user id), `exp`, `iat`, `nbf`, `jti` (its own id), `type`
(`access` or `refresh`, so that one can never be used as the other) and `family` (the id of
the login it belongs to: a refresh keeps it, so ending the login ends all its tokens).
"""

import time
from typing import Literal
from uuid import UUID, uuid4

from jose import JWTError, jwt
from pydantic import BaseModel, ValidationError

from app.config import Settings
from app.security.exceptions import InvalidToken

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]

# A token without these claims is refused, rather than trusted forever.
_REQUIRED_CLAIMS = {f"require_{claim}": True for claim in ("exp", "iat", "nbf", "sub", "jti")}


class TokenClaims(BaseModel):
    sub: UUID
    exp: int
    iat: int
    nbf: int
    jti: str
    type: TokenType
    family: str


def new_claims(
    *, user_id: UUID, token_type: TokenType, family: str, settings: Settings
) -> TokenClaims:
    """The claims of a token issued now, with the lifetime its type has in the settings."""
    now = int(time.time())
    ttl = (
        settings.access_token_ttl_seconds
        if token_type == "access"
        else settings.refresh_token_ttl_seconds
    )
    return TokenClaims(
        sub=user_id,
        iat=now,
        nbf=now,
        exp=now + ttl,
        jti=uuid4().hex,
        type=token_type,
        family=family,
    )


def encode_token(claims: TokenClaims, settings: Settings) -> str:
    return jwt.encode(
        claims.model_dump(mode="json"), settings.secret_key.get_secret_value(), algorithm=ALGORITHM
    )


def decode_token(token: str, *, expected_type: TokenType, settings: Settings) -> TokenClaims:
    """The verified claims, or InvalidToken: bad signature, other algorithm (`none` included),
    expired, not yet valid, a claim missing, or the other type of token."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],  # never taken from the token's own header
            options=_REQUIRED_CLAIMS,
        )
        claims = TokenClaims.model_validate(payload)
    except (JWTError, ValidationError):
        raise InvalidToken("The token is invalid or expired.") from None
    if claims.type != expected_type:
        raise InvalidToken(f"Expected a token of type {expected_type!r}.")
    return claims
