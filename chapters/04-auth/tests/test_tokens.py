"""Exercise auth.tokens: HS256 access and refresh tokens with sub, exp, iat, nbf, jti, type and
family, and a decode_token that refuses anything else with InvalidToken."""

import ast
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from auth_helpers import (
    claims_for,
    forge,
    tamper_with_payload,
    tamper_with_signature,
)
from jose import JWTError, jwt

from app.security.exceptions import InvalidToken
from app.security.tokens import TokenClaims, decode_token, encode_token, new_claims

pytestmark = pytest.mark.exercise("auth.tokens")

WHERE = "app/security/tokens.py (exercise auth.tokens)"
APP_DIR = Path(__file__).resolve().parents[1] / "app"
FAMILY = "a-login-family"


def claims_of(settings, token_type: str = "access", user_id: UUID | None = None) -> TokenClaims:
    try:
        claims = new_claims(
            user_id=user_id or uuid4(), token_type=token_type, family=FAMILY, settings=settings
        )
    except NotImplementedError:
        pytest.fail(f"new_claims is not written yet. Write it in {WHERE}.")
    assert isinstance(claims, TokenClaims), f"new_claims should return TokenClaims. {WHERE}"
    return claims


def issued(settings, token_type: str = "access", user_id: UUID | None = None) -> str:
    claims = claims_of(settings, token_type, user_id)
    try:
        token = encode_token(claims, settings)
    except NotImplementedError:
        pytest.fail(f"encode_token is not written yet. Write it in {WHERE}.")
    looks_like_a_jwt = isinstance(token, str) and token.count(".") == 2
    assert looks_like_a_jwt, (
        f"encode_token should return a signed JWT, three base64url parts joined by dots; it "
        f"returned {token!r}. Sign the claims with jose's jwt in {WHERE}."
    )
    return token


def decoded(token: str, settings, expected_type: str = "access") -> TokenClaims:
    try:
        return decode_token(token, expected_type=expected_type, settings=settings)
    except InvalidToken as error:
        pytest.fail(
            f"decode_token refused a good {expected_type} token that encode_token had just "
            f"made ({error}). Verify it and return its TokenClaims in {WHERE}."
        )


@pytest.mark.parametrize("token_type", ["access", "refresh"])
def test_new_claims_say_whose_token_of_which_login_and_for_how_long(settings, token_type):
    user_id = uuid4()
    before = int(time.time())

    claims = claims_of(settings, token_type, user_id)
    other = claims_of(settings, token_type, user_id)

    assert (claims.sub, claims.type, claims.family) == (user_id, token_type, FAMILY), (
        f"sub should be the user's id, type {token_type!r} and family the login given; got "
        f"sub={claims.sub}, type={claims.type!r}, family={claims.family!r}. {WHERE}"
    )
    issued_now = before <= claims.iat <= time.time() + 1 and claims.nbf == claims.iat
    assert issued_now, (
        f"iat (issued at) and nbf (not before) should both be now, in Unix seconds; they are "
        f"{claims.iat} and {claims.nbf}, and now is about {before}. {WHERE}"
    )
    lifetime = (
        settings.access_token_ttl_seconds
        if token_type == "access"
        else settings.refresh_token_ttl_seconds
    )
    assert claims.exp - claims.iat == lifetime, (
        f"A {token_type} token should live {lifetime} s (settings.{token_type}_token_ttl_seconds); "
        f"exp - iat is {claims.exp - claims.iat}. {WHERE}"
    )
    ids_of_their_own = bool(claims.jti) and claims.jti != other.jti
    assert ids_of_their_own, (
        f"Every token needs a jti of its own (a fresh random id): the login remembers its "
        f"refresh token by it. Two tokens got {claims.jti!r} and {other.jti!r}. {WHERE}"
    )


def test_encode_token_signs_the_claims_with_hs256_and_the_secret_key(settings):
    token = issued(settings, "refresh")

    assert jwt.get_unverified_header(token).get("alg") == "HS256", (
        f"The token's header should say alg HS256: sign with ALGORITHM. {WHERE}"
    )
    try:
        payload = jwt.decode(
            token, settings.secret_key.get_secret_value(), algorithms=["HS256"], options={}
        )
    except JWTError as error:
        pytest.fail(
            f"The token should be signed with settings.secret_key (its value, not the "
            f"masked SecretStr): {error}. {WHERE}"
        )
    missing = {"sub", "exp", "iat", "nbf", "jti", "type", "family"} - set(payload)
    assert not missing, f"The token lacks the claims {sorted(missing)}; it has {payload}."


def test_decode_token_gives_back_the_claims_of_a_good_token(settings):
    user_id = uuid4()

    claims = decoded(issued(settings, "refresh", user_id), settings, "refresh")

    assert isinstance(claims, TokenClaims), f"decode_token should return TokenClaims. {WHERE}"
    assert (claims.sub, claims.type, claims.family) == (user_id, "refresh", FAMILY), (
        f"decode_token should give back the claims encode_token signed; got {claims}. {WHERE}"
    )


ANOTHER_KEY = "another-deployment-signs-with-this-secret-0123456789"
Forgery = Callable[[UUID], str]
# What an attacker (or a bug) could send, and what the learner should check when it passes.
REFUSED: dict[str, tuple[Forgery, str]] = {
    "expired": (
        lambda uid: forge(claims_for(uid, iat=int(time.time()) - 700, exp=int(time.time()) - 5)),
        "jose checks exp when it verifies; do not turn that check off.",
    ),
    "not valid yet (nbf in an hour)": (
        lambda uid: forge(claims_for(uid, nbf=int(time.time()) + 3600)),
        "jose checks nbf when it verifies; do not turn that check off.",
    ),
    "signed with another key": (
        lambda uid: forge(claims_for(uid), key=ANOTHER_KEY),
        "verify with settings.secret_key.",
    ),
    "with a tampered signature": (
        lambda uid: tamper_with_signature(forge(claims_for(uid))),
        "let jose verify the signature; never read claims without it.",
    ),
    "with a tampered payload": (
        lambda uid: tamper_with_payload(forge(claims_for(uid)), sub=str(uuid4())),
        "let jose verify the signature; never read claims without it.",
    ),
    "with alg none (unsigned)": (
        lambda uid: forge(claims_for(uid), alg="none"),
        "name the one accepted algorithm yourself when decoding: never let the token choose.",
    ),
    "signed with HS512": (
        lambda uid: forge(claims_for(uid), alg="HS512"),
        "name the one accepted algorithm yourself when decoding: HS256 and nothing else.",
    ),
    "without jti": (
        lambda uid: forge(claims_for(uid, jti=None)),
        "require every claim the service relies on when decoding.",
    ),
    "without exp": (
        lambda uid: forge(claims_for(uid, exp=None)),
        "require exp when decoding, or a token without it lives forever.",
    ),
    "of type refresh": (
        lambda uid: forge(claims_for(uid, "refresh")),
        "compare the claims' type with expected_type.",
    ),
    "without type": (
        lambda uid: forge(claims_for(uid, type=None)),
        "validate the payload as TokenClaims, and turn pydantic's ValidationError into "
        "InvalidToken as well.",
    ),
    "whose sub is not a user id": (
        lambda uid: forge(claims_for(uid, sub="admin")),
        "validate the payload as TokenClaims (sub is a UUID), and turn pydantic's "
        "ValidationError into InvalidToken as well.",
    ),
    "that is not a JWT at all": (
        lambda uid: "not-a-token",
        "turn every error jose raises (JWTError) into InvalidToken.",
    ),
}


@pytest.mark.parametrize("forgery", REFUSED)
def test_decode_token_refuses_a_bad_access_token(settings, forgery):
    decoded(issued(settings), settings)  # a good token passes, or refusing all would look right
    make, what_to_check = REFUSED[forgery]
    token = make(uuid4())

    try:
        decode_token(token, expected_type="access", settings=settings)
    except InvalidToken:
        return
    except Exception as error:
        pytest.fail(
            f"decode_token should refuse a token {forgery} with InvalidToken; it raised "
            f"{type(error).__name__}: {error}. To refuse it: {what_to_check} Anything that "
            f"goes wrong must end as InvalidToken: fix decode_token in {WHERE}."
        )
    pytest.fail(
        f"decode_token accepted an access token {forgery}. To refuse it: {what_to_check} "
        f"Fix decode_token in {WHERE}."
    )


def test_decode_token_names_the_one_algorithm(settings, monkeypatch):
    token = issued(settings)
    calls: list[dict] = []
    real_decode = jwt.decode

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", spy)
    decoded(token, settings)

    assert calls, f"decode_token should verify the token with jose's jwt.decode. {WHERE}"
    assert calls[0].get("algorithms") == ["HS256"], (
        f"Pass the algorithms jwt.decode may accept, [ALGORITHM], by keyword; it got "
        f"{calls[0].get('algorithms')!r}. Without it, the token's header picks the algorithm. "
        f"{WHERE}"
    )


def imports_jose(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "jose" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "jose":
            return True
    return False


def test_only_tokens_py_imports_jose():
    importers = sorted(
        path.relative_to(APP_DIR.parent).as_posix()
        for path in APP_DIR.rglob("*.py")
        if imports_jose(path)
    )

    assert importers == ["app/security/tokens.py"], (
        f"app/security/tokens.py, and only it, should import jose (one place to audit every "
        f"JWT call); these modules do: {importers or 'none'}."
    )
