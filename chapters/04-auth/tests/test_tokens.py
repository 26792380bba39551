"""Exercise auth.tokens: HS256 access and refresh tokens with sub, exp, iat, jti and type, and
a decode_token that refuses anything else with InvalidToken."""

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
    unverified_claims,
)
from jose import JWTError, jwt

from app.auth.exceptions import InvalidToken
from app.auth.tokens import TokenClaims, decode_token, issue_token

pytestmark = pytest.mark.exercise("auth.tokens")

WHERE = "app/auth/tokens.py (exercise auth.tokens)"
APP_DIR = Path(__file__).resolve().parents[1] / "app"


def issued(settings, token_type: str = "access", user_id: UUID | None = None) -> str:
    token = issue_token(user_id=user_id or uuid4(), token_type=token_type, settings=settings)
    looks_like_a_jwt = isinstance(token, str) and token.count(".") == 2
    assert looks_like_a_jwt, (
        f"issue_token should return a signed JWT, three base64url parts joined by dots; it "
        f"returned {token!r}. Sign the claims with jose's jwt.encode in {WHERE}."
    )
    return token


def decoded(token: str, settings, expected_type: str = "access") -> TokenClaims:
    try:
        return decode_token(token, expected_type=expected_type, settings=settings)
    except InvalidToken as error:
        pytest.fail(
            f"decode_token refused a {expected_type} token that issue_token had just made "
            f"({error}). Verify it with jwt.decode and return TokenClaims in {WHERE}."
        )


@pytest.mark.parametrize("token_type", ["access", "refresh"])
def test_issue_token_signs_five_claims_with_hs256(settings, token_type):
    user_id = uuid4()
    before = int(time.time())

    token = issued(settings, token_type, user_id)

    assert jwt.get_unverified_header(token).get("alg") == "HS256", (
        "The token's header should say alg HS256: pass algorithm=ALGORITHM to jwt.encode."
    )
    try:
        claims = jwt.decode(
            token, settings.secret_key.get_secret_value(), algorithms=["HS256"], options={}
        )
    except JWTError as error:
        pytest.fail(f"The token should be signed with settings.secret_key: {error}. {WHERE}")
    missing = {"sub", "exp", "iat", "jti", "type"} - set(claims)
    assert not missing, f"The token lacks the claims {sorted(missing)}; it has {claims}."
    assert claims["sub"] == str(user_id), "`sub` should be the user's id, as text."
    assert claims["type"] == token_type, f"`type` should be {token_type!r}."
    assert before <= claims["iat"] <= time.time() + 1, "`iat` should be now, in Unix seconds."
    lifetime = (
        settings.access_token_ttl_seconds
        if token_type == "access"
        else settings.refresh_token_ttl_seconds
    )
    assert claims["exp"] - claims["iat"] == lifetime, (
        f"A {token_type} token should live {lifetime} s (settings.{token_type}_token_ttl_seconds); "
        f"exp - iat is {claims['exp'] - claims['iat']}."
    )
    assert claims["jti"], "`jti` should be a non-empty id, such as uuid4().hex."
    other = unverified_claims(issued(settings, token_type, user_id))
    assert other["jti"] != claims["jti"], (
        "Every token needs a jti of its own (uuid4().hex): revocation finds a token by it."
    )


def test_decode_token_gives_back_the_claims_of_a_good_token(settings):
    user_id = uuid4()

    claims = decoded(issued(settings, "refresh", user_id), settings, "refresh")

    assert isinstance(claims, TokenClaims), f"decode_token should return TokenClaims. {WHERE}"
    assert claims.sub == user_id, "The claims' sub should be the user's id (a UUID)."
    assert claims.type == "refresh"


ANOTHER_KEY = "another-deployment-signs-with-this-secret-0123456789"
Forgery = Callable[[UUID], str]
# What an attacker (or a bug) could send, and what the learner should check when it passes.
REFUSED: dict[str, tuple[Forgery, str]] = {
    "expired": (
        lambda uid: forge(claims_for(uid, iat=int(time.time()) - 700, exp=int(time.time()) - 5)),
        "jwt.decode checks exp for you; do not turn that check off.",
    ),
    "signed with another key": (
        lambda uid: forge(claims_for(uid), key=ANOTHER_KEY),
        "verify with settings.secret_key.",
    ),
    "with a tampered signature": (
        lambda uid: tamper_with_signature(forge(claims_for(uid))),
        "let jwt.decode verify the signature.",
    ),
    "with a tampered payload": (
        lambda uid: tamper_with_payload(forge(claims_for(uid)), sub=str(uuid4())),
        "let jwt.decode verify the signature.",
    ),
    "with alg none (unsigned)": (
        lambda uid: forge(claims_for(uid), alg="none"),
        "pass algorithms=[ALGORITHM] to jwt.decode: never let the token choose.",
    ),
    "signed with HS512": (
        lambda uid: forge(claims_for(uid), alg="HS512"),
        "pass algorithms=[ALGORITHM] to jwt.decode: HS256 and nothing else.",
    ),
    "without jti": (
        lambda uid: forge(claims_for(uid, jti=None)),
        'require it: options={"require_jti": True, ...}, or TokenClaims refuses it.',
    ),
    "without exp": (
        lambda uid: forge(claims_for(uid, exp=None)),
        'require it: options={"require_exp": True, ...}, or a token lives forever.',
    ),
    "of type refresh": (
        lambda uid: forge(claims_for(uid, "refresh")),
        "compare the claims' type with expected_type.",
    ),
    "without type": (
        lambda uid: forge(claims_for(uid, type=None)),
        "validate the payload with TokenClaims.model_validate, and catch pydantic's "
        "ValidationError as well as JWTError.",
    ),
    "whose sub is not a user id": (
        lambda uid: forge(claims_for(uid, sub="admin")),
        "validate the payload with TokenClaims.model_validate (sub is a UUID), and catch "
        "pydantic's ValidationError as well as JWTError.",
    ),
    "that is not a JWT at all": (lambda uid: "not-a-token", "catch jose's JWTError."),
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
            f"still goes wrong must end as InvalidToken: fix decode_token in {WHERE}."
        )
    pytest.fail(
        f"decode_token accepted an access token {forgery}. To refuse it: {what_to_check} "
        f"Fix decode_token in {WHERE}."
    )


def test_decode_token_names_the_one_algorithm(settings, monkeypatch):
    calls: list[dict] = []
    real_decode = jwt.decode

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", spy)
    decoded(issued(settings), settings)

    assert calls, f"decode_token should verify the token with jose's jwt.decode. {WHERE}"
    assert calls[0].get("algorithms") == ["HS256"], (
        f"Pass algorithms=[ALGORITHM] to jwt.decode, by keyword; it got "
        f"{calls[0].get('algorithms')!r}. Without it, the token's header picks the algorithm."
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

    assert importers == ["app/auth/tokens.py"], (
        f"app/auth/tokens.py, and only it, should import jose (one place to audit every JWT "
        f"call); these modules do: {importers or 'none'}."
    )
