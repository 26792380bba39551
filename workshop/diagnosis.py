"""What a failing test's details say, in the learner's words: the lines under a failure.

The tests' own messages say what is missing. When a learner leaves the expected path, the
details that `workshop.check_details` collected say more:
- a coroutine created and never awaited: "X was called but not awaited", with where;
- an exception the tests did not expect: the learner's file, line and code, and the exception;
- known traps, each named in one sentence (a `SecretStr` printed, a UUID sent to `json`, a
  header value that is not a `str`, a window in seconds where milliseconds are expected, an
  HTTP-only middleware meeting the lifespan, fastapi-offline refusing hidden docs);
- the warnings and errors the app logged during the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workshop.checking import Outcome

LOG_LINES = 4


@dataclass(frozen=True)
class Trap:
    """A known mistake: recognised in what a failing test left behind (its message, the
    exception, the logs) or in the failing exercise's own files, and named in one sentence."""

    name: str
    sentence: str
    in_text: str | None = None  # a regex over the failure's message, exception and logs
    in_code: str | None = None  # a regex over the exercise's files (the learner's code)
    # A regex over pytest's traceback: where a library raised an error with no message.
    in_traceback: str | None = None
    # A regex over the test's own message: when it already says this, the trap is not repeated.
    said_by: str | None = None

    def found(self, text: str, code: str, traceback: str = "") -> bool:
        return bool(
            (self.in_text and re.search(self.in_text, text))
            or (self.in_code and re.search(self.in_code, code, re.MULTILINE))
            or (self.in_traceback and re.search(self.in_traceback, traceback))
        )

    def said_in(self, message: str) -> bool:
        return bool(self.said_by and re.search(self.said_by, message))


TRAPS = (
    Trap(
        "secret-str",
        "`str()` of a `SecretStr` (or an f-string of it) is the mask `**********`, not the "
        "secret: read the secret itself with `.get_secret_value()`.",
        in_text=r"\*{10}",
        in_code=r"\bstr\(\s*[\w.]*secret[\w.]*\s*\)|\{[\w.]*secret_key\}",
    ),
    Trap(
        "secret-str-as-key",
        "The key was handed over as the `SecretStr` itself: jose wants a `str` or `bytes`, and "
        "`str()` of a `SecretStr` is the mask `**********`, so neither works. Pass "
        "`settings.secret_key.get_secret_value()`.",
        # jose's words for a key that is neither str nor bytes (JWSError on encode, JWKError
        # on decode); in the code, `x.secret_key` passed on as an argument, unopened (its
        # `str()` is the trap above).
        in_text=r"Expecting a string- or bytes-formatted key",
        in_code=r"(?<![\w.])(?<!str\()[\w.]+\.secret_key\s*[,)]",
    ),
    Trap(
        "model-dump-json",
        "`model_dump()` returns Python objects (a UUID, a datetime) that `json` cannot write: "
        'use `model_dump(mode="json")` or `model_dump_json()`.',
        # An exception object (pydantic keeps one in a validation error's `ctx`) is another
        # mistake: copying the error item whole.
        in_text=r"Object of type (?!\w*(?:Error|Exception)\b)\w+ is not JSON serializable",
        in_code=r"json\.dumps\([^)\n]*\.model_dump\(\s*\)",
    ),
    Trap(
        "python-repr-not-json",
        "The value read back is not JSON but a Python repr (`str()` of a dict or a model): "
        "the reader is right, the writer is at fault. Store JSON text, e.g. "
        "`user.model_dump_json()`, where the value is written.",
        # pydantic's words for it, quoting the start of the value: `{'id': ...` or `id=UUID(`.
        in_text=r"type=json_invalid, input_value=\"(?:\{'|\['|\w+=)",
    ),
    Trap(
        "header-not-str",
        "A header value must be a `str` (not bytes, not a number): write a number as text "
        'yourself, e.g. `f"{elapsed:.6f}"` or `str(seconds)`; Starlette encodes the text.',
        # Starlette calls `value.encode()`: bytes fail there as a number does.
        in_text=r"'(?:int|float|bool|bytes|bytearray|NoneType|UUID|datetime|timedelta|Decimal)'"
        r" object has no attribute 'encode'|[Hh]eader value must be (?:str|a string)",
        said_by=r"[Hh]eader value must be a `?str\b",
    ),
    Trap(
        "seconds-for-milliseconds",
        "A window in seconds is given where milliseconds are expected (`PEXPIRE`, `PTTL` and "
        "the script's ARGV count milliseconds): multiply by 1000 on the way in.",
        in_text=r"\((\d+)000 ms\)[^\n]*?(?:PTTL|TTL) is \1\b",
        in_code=r"args=\[\s*[\w.]*window_seconds\s*\]|pexpire\([^)\n]*_seconds\s*\)",
    ),
    Trap(
        "http-only-middleware",
        "A KeyError on an HTTP key in middleware usually means it handled a `lifespan` (or "
        '`websocket`) scope as if it were HTTP: pass every scope whose `type` is not "http" '
        "straight to the app (`await self.app(scope, receive, send)`) before reading it.",
        in_text=r"KeyError: '(?:method|path|headers|query_string|client)'",
    ),
    Trap(
        "offline-docs-hidden",
        "`FastAPIOffline` needs an `openapi_url` (it builds its pages from the schema), so "
        "`openapi_url=None` stops it with a bare AssertionError: when the docs are hidden, "
        "build a plain `FastAPI(openapi_url=None, docs_url=None, redoc_url=None)` instead.",
        # The assertion has no message: only where it was raised tells it apart.
        in_traceback=r"fastapi_offline[/\\][\w/\\]*\.py:\d+: AssertionError",
    ),
)


def unawaited_sentences(messages: tuple[str, ...]) -> list[str]:
    """Python's `coroutine 'Redis.aclose' was never awaited` (with where it was created, when
    origin tracking was on) -> "`redis.aclose()` was called but not awaited (app/main.py:37)"."""
    sentences = []
    for message in messages:
        found = re.search(r"coroutine '([^']+)' was never awaited", message)
        name = f"{found.group(1)}()" if found else "a coroutine function"
        where, code = _origin(message)
        call = _call_in(code) or name
        at = f" ({where})" if where else ""
        sentences.append(
            f"`{call}` was called but not awaited{at}: without `await` it never runs, and what "
            "it returns is a coroutine, not its result. Put `await` before it."
        )
    return sentences


def _origin(message: str) -> tuple[str, str]:
    """The last `app/...` frame of "Coroutine created at": (file:line, its code)."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in [^\n]*\n\s*([^\n]*)', message)
    for path, line, code in reversed(frames):
        normalised = path.replace("\\", "/")
        if "/app/" in normalised:
            return f"app/{normalised.rsplit('/app/', 1)[1]}:{line}", code.strip()
    return "", ""


def _call_in(code: str) -> str:
    """`raw = self._redis.get(key)` -> `self._redis.get(key)`: the call itself."""
    code = re.sub(r"^(?:return|yield)\s+", "", code)
    code = re.sub(r"^[\w.\[\]'\"]+\s*(?::[^=]+)?=\s*(?!=)", "", code)
    return code if len(code) <= 80 else ""


def location_sentence(outcome: Outcome) -> str | None:
    """Where the learner's code raised what the test did not expect."""
    location = outcome.location
    if not location:
        return None
    where = f"{location['file']}:{location['line']} (in {location['function']})"
    code = f": `{location['code']}`" if location.get("code") else ""
    exception = location["exception"].splitlines()[0]
    return f"Your code raised {exception} at {where}{code}"


def traps_in(outcome: Outcome, code: str = "") -> list[str]:
    text = "\n".join(
        [
            outcome.message,
            (outcome.location or {}).get("exception", ""),
            *outcome.logs,
            *outcome.unawaited,
        ]
    )
    return [
        trap.sentence
        for trap in TRAPS
        if trap.found(text, code, outcome.traceback) and not trap.said_in(outcome.message)
    ]


def explain(outcome: Outcome, code: str = "") -> list[str]:
    """The lines to show under a failure, most likely cause first (none for a plain assert).
    `code` is the text of the failing exercise's files, where some traps show."""
    lines = unawaited_sentences(outcome.unawaited)
    if sentence := location_sentence(outcome):
        lines.append(sentence)
    lines += traps_in(outcome, code)
    if outcome.logs:
        lines.append("Logged during the test:")
        lines += [f"  {line}" for line in outcome.logs[:LOG_LINES]]
    return lines


def cause_key(outcome: Outcome) -> str | None:
    """Failures with the same key share one cause (the same line raising the same error)."""
    if outcome.unawaited:
        return f"{_origin(outcome.unawaited[0])[0]} unawaited"
    if outcome.location:
        location = outcome.location
        return f"{location['file']}:{location['line']}:{location['exception']}"
    return None
