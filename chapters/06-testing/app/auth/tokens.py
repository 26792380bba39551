"""JWTs: the ONLY module that imports jose. HS256 and nothing else, ever.

Every token carries `sub` (the user id), `exp`, `iat`, `jti` (its own id, for revocation) and
`type` (`access` or `refresh`, so that one can never be used as the other).
"""

import time
from typing import Literal
from uuid import UUID, uuid4

from jose import JWTError, jwt
from pydantic import BaseModel, ValidationError

from app.auth.exceptions import InvalidToken
from app.config import Settings

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]

# A token without these claims is refused, rather than trusted forever.
_REQUIRED_CLAIMS = {f"require_{claim}": True for claim in ("exp", "iat", "sub", "jti")}


class TokenClaims(BaseModel):
    sub: UUID
    exp: int
    iat: int
    jti: str
    type: TokenType

    def seconds_left(self) -> int:
        """How long the token stays valid (at least 1: a Redis TTL must be positive)."""
        return max(1, self.exp - int(time.time()))


def issue_token(*, user_id: UUID, token_type: TokenType, settings: Settings) -> str:
    now = int(time.time())
    ttl = (
        settings.access_token_ttl_seconds
        if token_type == "access"
        else settings.refresh_token_ttl_seconds
    )
    claims = TokenClaims(sub=user_id, iat=now, exp=now + ttl, jti=uuid4().hex, type=token_type)
    return jwt.encode(
        claims.model_dump(mode="json"),
        settings.secret_key.get_secret_value(),
        algorithm=ALGORITHM,
    )


def decode_token(token: str, *, expected_type: TokenType, settings: Settings) -> TokenClaims:
    """The verified claims, or InvalidToken: bad signature, other algorithm (`none` included),
    expired, a claim missing, or the other type of token."""
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
