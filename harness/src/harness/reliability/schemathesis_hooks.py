"""Schemathesis hooks for fuzzing the service: loaded by the `schemathesis` process through
`SCHEMATHESIS_HOOKS=harness.reliability.schemathesis_hooks` (see fuzz.py), never imported by pytest.

- Authentication: every operation gets a bearer token of a real account, so the fuzzer
  reaches past the 401 into each route's logic. The admin routes get an admin's.
- Real credentials now and then: some login forms carry a real email and password and some
  refresh bodies a real refresh token, so those routes answer 200 too, not only 401.
- Two checks of the service's own contract on top of Schemathesis' checks: every error is
  an RFC 9457 problem document, and every operation answered 2xx at least once.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
import zlib
from typing import Any, TypedDict

import asyncpg
import email_validator
import httpx
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import AuthContext, Case, CheckContext, HookContext, Response

BASE_URL = os.environ.get("REL_FUZZ_BASE_URL", "")
DATABASE_URL = os.environ.get("REL_FUZZ_DATABASE_URL", "")
REACHED_FILE = os.environ.get("REL_FUZZ_REACHED_FILE", "")
PASSWORD = "fuzzing-password-1234"
ADMIN_OPERATIONS = {"GET /users", "PATCH /users/{user_id}", "DELETE /users/{user_id}"}
PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}

# A case of any operation (the hooks read only its label, body, parameters and headers).
FuzzCase = Case[Any]


# --- accounts ------------------------------------------------------------------------------


class Tokens(TypedDict):
    """The service's answer to a login."""

    access_token: str
    refresh_token: str
    token_type: str


def _register_and_log_in() -> tuple[str, Tokens]:
    """A new account through the API, as a client makes one: (email, token pair)."""
    email = f"fuzz-{uuid.uuid4().hex[:16]}@fuzz.example.com"
    with httpx.Client(base_url=BASE_URL, timeout=30) as client:
        created = client.post("/users", json={"email": email, "password": PASSWORD})
        created.raise_for_status()
        login = client.post("/auth/token", data={"username": email, "password": PASSWORD})
        login.raise_for_status()
    tokens: Tokens = login.json()
    return email, tokens


def _make_admin(email: str) -> None:
    """No route makes the first admin, so the fuzzer promotes its account in the database."""

    async def promote() -> None:
        connection = await asyncpg.connect(DATABASE_URL.replace("+asyncpg", ""), timeout=10)
        try:
            await connection.execute("UPDATE users SET role = 'admin' WHERE email = $1", email)
        finally:
            await connection.close()

    asyncio.run(promote())


def _new_token(admin: bool) -> str:
    email, tokens = _register_and_log_in()
    if admin:
        _make_admin(email)  # the role is read from the database when the token is used
    return tokens["access_token"]


# One account per operation, replaced when it stops working (a 401 refetches): the fuzzer
# deletes accounts, logs them out and changes their passwords and emails on purpose.
@schemathesis.auth(cache_by_key=lambda case, context: context.operation.label)
class FreshAccount:
    def get(self, case: FuzzCase, context: AuthContext) -> str:
        return _new_token(admin=context.operation.label in ADMIN_OPERATIONS)

    def set(self, case: FuzzCase, data: str, context: AuthContext) -> None:
        # A new mapping, assigned: Schemathesis notices the headers changed.
        headers = CaseInsensitiveDict(case.headers or {})
        headers["Authorization"] = f"Bearer {data}"
        case.headers = headers


# --- real credentials now and then -------------------------------------------------------

_account_lock = threading.Lock()


def _pick(case: FuzzCase) -> bool:
    """Half of the positive cases, chosen by their content so a replay makes the same choice."""
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative:
        return False  # a negative case must stay invalid: that is what it tests
    seed = json.dumps([case.body, case.path_parameters], sort_keys=True, default=str)
    return zlib.crc32(seed.encode()) % 2 == 0


def _fresh_account() -> tuple[str, Tokens]:
    with _account_lock:
        return _register_and_log_in()


def _refused_email(case: FuzzCase) -> bool:
    """An address the JSON Schema `email` format allows but email-validator (the service's
    validator) refuses, such as one at a special-use domain (`.test`, `.local`, RFC 6761)."""
    email = case.body.get("email") if isinstance(case.body, dict) else None
    if not isinstance(email, str):
        return False
    try:
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return True
    return False


@schemathesis.hook
def filter_case(context: HookContext, case: FuzzCase) -> bool:
    """Drop positive cases the schema cannot describe as refused: no JSON Schema format says
    "not at a reserved domain", so their 422 would be reported as a mismatch."""
    meta = case.meta
    positive = meta is not None and not meta.generation.mode.is_negative
    return not (positive and _refused_email(case))


@schemathesis.hook
def map_case(context: HookContext, case: FuzzCase) -> FuzzCase:
    label = case.operation.label
    if not _pick(case):
        return case
    if label == "POST /auth/token" and isinstance(case.body, dict):
        email, _ = _fresh_account()
        case.body = {**case.body, "username": email, "password": PASSWORD}
    elif label == "POST /auth/refresh" and isinstance(case.body, dict):
        _, tokens = _fresh_account()
        case.body = {**case.body, "refresh_token": tokens["refresh_token"]}
    elif label in ADMIN_OPERATIONS and "user_id" in case.path_parameters:
        # A random id is a 404: name a real account now and then.
        target = {"email": f"target-{uuid.uuid4().hex[:16]}@fuzz.example.com", "password": PASSWORD}
        created = httpx.post(f"{BASE_URL}/users", json=target, timeout=30)
        case.path_parameters = {**case.path_parameters, "user_id": created.json()["id"]}
    return case


# --- the service's own contract ------------------------------------------------------------


@schemathesis.check
def errors_are_problem_documents(ctx: CheckContext, response: Response, case: FuzzCase) -> None:
    """Every 4xx and 5xx is `application/problem+json` with the RFC 9457 members."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith(PROBLEM_JSON):
        raise AssertionError(f"a {response.status_code} answered {content_type!r}, not a problem")
    body = json.loads(response.content)
    missing = PROBLEM_MEMBERS - set(body)
    if missing:
        raise AssertionError(f"the problem document lacks {sorted(missing)}")
    if body["status"] != response.status_code:
        raise AssertionError(f"the problem says {body['status']}, HTTP says {response.status_code}")


@schemathesis.check
class EveryOperationAnswers2xx:
    """Fail if an operation never answered 2xx: fuzzing that only meets 401 or 422 tests
    the gatekeepers, not the route. Also writes what each operation answered."""

    def __init__(self) -> None:
        self.statuses: dict[str, set[int]] = {}

    def after_response(self, ctx: CheckContext, response: Response, case: FuzzCase) -> None:
        self.statuses.setdefault(case.operation.label, set()).add(response.status_code)

    def after_run(self, ctx: CheckContext) -> None:
        if REACHED_FILE:
            with open(REACHED_FILE, "w", encoding="utf-8") as file:
                json.dump({label: sorted(codes) for label, codes in self.statuses.items()}, file)
        never = [
            label
            for label, codes in self.statuses.items()
            if not any(200 <= code < 300 for code in codes)
        ]
        if never:
            raise AssertionError("never answered 2xx: " + ", ".join(sorted(never)))
