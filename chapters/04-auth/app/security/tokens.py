"""JWTs: the ONLY module that imports jose. HS256 and nothing else, ever.

Every token carries `sub` (the user id), `exp`, `iat`, `nbf`, `jti` (its own id), `type`
(`access` or `refresh`, so that one can never be used as the other) and `family` (the id of
the login it belongs to: a refresh keeps it, so ending the login ends all its tokens).
"""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel

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
    # TODO(auth.tokens): the claims of a token of this type, valid from now for the lifetime
    # the settings give its type, under an id of its own that no other token shares (a login
    # is found by `family`, a refresh token by its `jti`).
    raise NotImplementedError("new_claims is exercise auth.tokens")


def encode_token(claims: TokenClaims, settings: Settings) -> str:
    # TODO(auth.tokens): the claims signed as a JWT with HS256 and the service's secret key,
    # so that only this service can make a token it accepts.
    raise NotImplementedError("encode_token is exercise auth.tokens")


def decode_token(token: str, *, expected_type: TokenType, settings: Settings) -> TokenClaims:
    """The verified claims, or InvalidToken: bad signature, other algorithm (`none` included),
    expired, not yet valid, a claim missing, or the other type of token."""
    # TODO(auth.tokens): trust nothing the token says before its signature is checked, and let
    # the service, never the token's own header, choose how it is checked. A token without a
    # claim the service relies on is refused, not trusted forever; a refresh token is not an
    # access token. Every way a token can be wrong ends as InvalidToken, the one exception
    # callers catch.
    raise InvalidToken("Token verification is not written yet (exercise auth.tokens).")
