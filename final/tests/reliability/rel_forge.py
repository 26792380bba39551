"""Tokens as an attacker builds them: by hand, with any header, algorithm and key.

No JWT library here on purpose: a library refuses to make the broken tokens an attack needs
(`alg: none`, an RS256 header over an HMAC signature, ...).
"""

import base64
import hashlib
import hmac
import json
import time
from uuid import uuid4

DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_part(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def claims_of(token: str) -> dict:
    return decode_part(token.split(".")[1])


def valid_claims(user_id: object, **changes: object) -> dict:
    """Claims like the service's own; a change of None removes the claim."""
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid4().hex,
        "type": "access",
        "family": uuid4().hex,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def forge(
    claims: dict,
    *,
    key: str,
    alg: str = "HS256",
    digest: str | None = None,
    extra_header: dict | None = None,
) -> str:
    """A JWT with header `alg`, signed with HMAC `digest` (default: the one `alg` names).
    `alg` without an HMAC digest (none, RS256...) gets an HMAC-SHA256 signature unless none."""
    header = {"alg": alg, "typ": "JWT", **(extra_header or {})}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    if alg.lower() == "none":
        return f"{signing_input}."
    hash_function = DIGESTS[digest or (alg if alg in DIGESTS else "HS256")]
    signature = hmac.new(key.encode(), signing_input.encode(), hash_function).digest()
    return f"{signing_input}.{b64url(signature)}"


def with_payload(token: str, claims: dict) -> str:
    """The token with its payload replaced and its original signature kept (tampering)."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
