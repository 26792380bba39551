"""The sentences under a failure: known traps named from the failure or from the learner's
code, calls never awaited named from Python's warning (issue 19 item 2)."""

import pytest

from workshop import diagnosis
from workshop.checking import Outcome


def failure(message: str = "", **details) -> Outcome:
    return Outcome("tests/test_x.py::test_x", "x.y", "failed", message, "AssertionError", **details)


TRAP_CASES = [
    ("secret-str", "expected 'abc', got '**********'", ""),
    ("secret-str", "", "    key = str(settings.secret_key)\n"),
    ("secret-str", "", '    dsn = f"{settings.secret_key}"\n'),
    ("secret-str-as-key", "JWSError: Expecting a string- or bytes-formatted key.", ""),
    ("secret-str-as-key", "JWKError: Expecting a string- or bytes-formatted key.", ""),
    (
        "secret-str-as-key",
        "",
        "    return jwt.encode(payload, settings.secret_key, algorithm=ALG)\n",
    ),
    (
        "secret-str-as-key",
        "",
        "        payload = jwt.decode(\n            token,\n            settings.secret_key,\n",
    ),
    ("model-dump-json", "TypeError: Object of type UUID is not JSON serializable", ""),
    ("model-dump-json", "", "    await redis.set(key, json.dumps(user.model_dump()))\n"),
    ("header-not-str", "AttributeError: 'float' object has no attribute 'encode'", ""),
    ("header-not-str", "TypeError: Header value must be str or bytes, not <class 'int'>", ""),
    ("header-not-str", "AttributeError: 'bytes' object has no attribute 'encode'", ""),
    (
        "seconds-for-milliseconds",
        "The counter should expire with its window (60000 ms); its PTTL is 60.",
        "",
    ),
    (
        "seconds-for-milliseconds",
        "",
        "        hits, reset = await self._script(keys=[key], args=[window_seconds])\n",
    ),
    ("http-only-middleware", "KeyError: 'method'", ""),
    (
        "python-repr-not-json",
        "Invalid JSON: key must be a string at line 1 column 2 [type=json_invalid, "
        "input_value=\"{'id': 'a027b865-7d0b-45...2-06T13:07:36Z'}\", input_type=str]",
        "",
    ),
    (
        "python-repr-not-json",
        "Invalid JSON: expected value at line 1 column 1 [type=json_invalid, "
        "input_value=\"id=UUID('a027b865-7d0b-...') email='a@example.com'\", input_type=str]",
        "",
    ),
]


@pytest.mark.parametrize(("name", "message", "code"), TRAP_CASES)
def test_each_known_trap_is_named_from_the_failure_or_the_code(name, message, code):
    (trap,) = [trap for trap in diagnosis.TRAPS if trap.name == name]

    sentences = diagnosis.traps_in(failure(message), code)

    assert sentences == [trap.sentence], f"{name} should be named once: {sentences}"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("GET /users/1 answered 404.", "key = settings.secret_key.get_secret_value()\n"),
        ("", "jwt.decode(token, settings.secret_key.get_secret_value(), algorithms=[ALG])\n"),
        ("", '@field_validator("secret_key")\n'),
        ("The counter should expire with its window (60000 ms); its PTTL is 59874.", ""),
        ("", "await self._script(keys=[key], args=[window_seconds * 1000])\n"),
        ("", 'payload = user.model_dump(mode="json")\n'),
        # An exception object in a validation error's `ctx` (chapter 05): not a model_dump.
        ("TypeError: Object of type ValueError is not JSON serializable", ""),
        # JSON cut short is not a Python repr.
        ('Invalid JSON: EOF [type=json_invalid, input_value=\'{"id": "a0\', input_type=str]', ""),
    ],
)
def test_correct_code_and_ordinary_failures_name_no_trap(message, code):
    assert diagnosis.traps_in(failure(message), code) == []


def test_a_trap_the_tests_own_message_already_states_is_not_repeated():
    outcome = failure(
        "X-Process-Time was given a value of type float. A header value must be a str: write "
        "the seconds as text yourself.",
        location={
            "file": "app/middleware.py",
            "line": 29,
            "function": "send",
            "code": 'headers["X-Process-Time"] = elapsed',
            "exception": "AttributeError: 'float' object has no attribute 'encode'",
        },
    )

    assert diagnosis.traps_in(outcome) == []
    assert diagnosis.traps_in(failure("AttributeError: 'float' object has no attribute 'encode'"))


OFFLINE_TRACEBACK = """    def __init__(self, *args, openapi_url="/openapi.json", **kwargs):
>       assert isinstance(openapi_url, str)
E       AssertionError

/home/ada/workshop/.venv/lib/python3.11/site-packages/fastapi_offline/core.py:39: AssertionError"""


def test_fastapi_offline_refusing_hidden_docs_is_named_from_where_it_raised():
    (trap,) = [trap for trap in diagnosis.TRAPS if trap.name == "offline-docs-hidden"]
    location = {
        "file": "app/main.py",
        "line": 27,
        "function": "create_app",
        "code": "app = FastAPIOffline(**about, openapi_url=None)",
        "exception": "AssertionError",
    }

    named = diagnosis.traps_in(
        failure("AssertionError", traceback=OFFLINE_TRACEBACK, location=location)
    )
    # A bare AssertionError raised anywhere else is not this trap.
    elsewhere = OFFLINE_TRACEBACK.replace("fastapi_offline/core.py", "app/main.py")
    not_named = diagnosis.traps_in(failure("AssertionError", traceback=elsewhere))

    assert named == [trap.sentence]
    assert "FastAPI(openapi_url=None, docs_url=None, redoc_url=None)" in trap.sentence
    assert not_named == []


PYTHON_WARNING = """coroutine 'Redis.aclose' was never awaited
Coroutine created at (most recent call last)
  File "/venv/site-packages/starlette/routing.py", line 694, in lifespan
    async with self.lifespan_context(app) as maybe_state:
  File "/home/ada/workshop/chapters/03-cache/app/main.py", line 37, in lifespan
    redis.aclose()"""


def test_a_call_not_awaited_is_said_with_the_learners_call_and_line():
    (sentence,) = diagnosis.unawaited_sentences((PYTHON_WARNING,))

    assert sentence.startswith("`redis.aclose()` was called but not awaited (app/main.py:37)"), (
        sentence
    )
    assert "Put `await` before it." in sentence


def test_without_origin_tracking_the_coroutines_name_is_used():
    (sentence,) = diagnosis.unawaited_sentences(
        ("coroutine 'UserCache.invalidate' was never awaited",)
    )

    assert sentence.startswith("`UserCache.invalidate()` was called but not awaited:")


def test_an_assignment_names_only_the_call():
    warning = PYTHON_WARNING.replace("    redis.aclose()", "    raw = self._redis.get(key)")

    (sentence,) = diagnosis.unawaited_sentences((warning,))

    assert sentence.startswith("`self._redis.get(key)` was called but not awaited"), sentence


def test_the_unawaited_call_comes_first_then_the_location_then_the_logs():
    location = {
        "file": "app/users/cache.py",
        "line": 65,
        "function": "_read",
        "code": "return UserRead.model_validate_json(raw)",
        "exception": "ValidationError: 1 validation error for UserRead\n  JSON input ...",
    }
    outcome = failure(
        "ValidationError: ...",
        location=location,
        logs=("WARNING app.users.cache: user cache unavailable",),
        unawaited=(PYTHON_WARNING,),
    )

    lines = diagnosis.explain(outcome)

    assert lines[0].startswith("`redis.aclose()` was called but not awaited")
    assert lines[1] == (
        "Your code raised ValidationError: 1 validation error for UserRead at "
        "app/users/cache.py:65 (in _read): `return UserRead.model_validate_json(raw)`"
    )
    assert lines[2:] == [
        "Logged during the test:",
        "  WARNING app.users.cache: user cache unavailable",
    ]
