"""JWTs: the ONLY module that imports jose. HS256 and nothing else, ever.

Every token carries `sub` (the user id), `exp`, `iat`, `jti` (its own id, for revocation) and
`type` (`access` or `refresh`, so that one can never be used as the other).
"""

import time
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from app.auth.exceptions import InvalidToken
from app.config import Settings

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


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
    # TODO(auth.tokens): build the TokenClaims (iat now, exp after the type's lifetime from
    # the settings, a fresh jti) and sign them with jose's jwt.encode, HS256, settings.secret_key.
    return ""


def decode_token(token: str, *, expected_type: TokenType, settings: Settings) -> TokenClaims:
    """The verified claims, or InvalidToken: bad signature, other algorithm (`none` included),
    expired, a claim missing, or the other type of token."""
    # TODO(auth.tokens): verify the token with jwt.decode (algorithms=[ALGORITHM], every claim
    # required), validate the payload as TokenClaims, check its type; any failure is InvalidToken.
    raise InvalidToken("Token verification is not written yet (exercise auth.tokens).")
