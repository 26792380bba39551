"""`workshop check` when a learner leaves the expected path: the report points at their own
file and line, names a call that was never awaited and the known traps, shows what the app
logged, counts a test once even when its teardown fails, and shows pytest's traceback on
request (issue 19 items 2 and 8).

The chapter is made up for the test (no services), so its line numbers are known here."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workshop.manifest import ROOT_ENV

MANIFEST = """
[[chapters]]
id = "probe"
number = "01"
title = "Probe: mistakes learners make"
summary = "s"
services = []
teaching_minutes = 5
exercise_minutes = 5
objectives = ["o"]
key_points = ["k"]
{exercises}
"""
EXERCISE = """
[[chapters.exercises]]
id = "probe.{name}"
title = "{name}"
files = {files}
tests = ["tests/test_{name}.py"]
hints = ["a", "b"]
"""
EXERCISES = {
    "awaiting": ["app/cache.py"],
    "shutdown": ["app/cache.py"],
    "middleware": ["app/middleware.py"],
    "handler": ["app/main.py"],
    "reads": ["app/reads.py"],
    "secret": ["app/tokens.py"],
    "logging": ["app/reads.py"],
    "teardown": [],
    "planted": ["app/wrapper.py"],
}

APP = {
    "app/__init__.py": "",
    "app/cache.py": """
        import asyncio

        CLOSED = []


        async def fetch(key):
            await asyncio.sleep(0)
            return "value"


        async def read(key):
            raw = fetch(key)
            return raw.upper()


        async def cleanup():
            CLOSED.append(True)


        async def shutdown():
            cleanup()
    """,
    "app/middleware.py": """
        class Timing:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                if scope["method"] == "HEAD":
                    return
                await self.app(scope, receive, send)
    """,
    "app/main.py": """
        async def app(scope, receive, send):
            raise ValueError("the handler broke")
    """,
    "app/reads.py": """
        import logging

        from app.main import app as broken_app

        logger = logging.getLogger("app.reads")


        async def lookup(user_id):
            return await broken_app({"type": "http"}, None, None)


        def cached(user_id):
            logger.warning("user cache write failed; serving from the database")
            return None
    """,
    "app/tokens.py": """
        def signing_key(settings):
            return str(settings.secret_key)
    """,
    "app/wrapper.py": """
        class PassThrough:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                await self.app(scope, receive, send)
    """,
}

TESTS = {
    "tests/test_awaiting.py": """
        import pytest
        from app.cache import read

        pytestmark = pytest.mark.exercise("probe.awaiting")


        async def test_read_gives_the_value():
            assert await read("k") == "VALUE"
    """,
    "tests/test_shutdown.py": """
        import pytest
        from app.cache import CLOSED, shutdown

        pytestmark = pytest.mark.exercise("probe.shutdown")


        async def test_shutdown_cleans_up():
            await shutdown()
            assert CLOSED, "shutdown() should run cleanup() (exercise probe.shutdown)."
    """,
    "tests/test_middleware.py": """
        import pytest
        from app.middleware import Timing

        pytestmark = pytest.mark.exercise("probe.middleware")


        async def test_the_lifespan_passes_through():
            seen = []

            async def inner(scope, receive, send):
                seen.append(scope["type"])

            await Timing(inner)({"type": "lifespan"}, None, None)
            assert seen == ["lifespan"]
    """,
    "tests/test_handler.py": """
        import httpx
        import pytest
        from app.main import app

        pytestmark = pytest.mark.exercise("probe.handler")


        async def test_the_root_answers_200():
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/")
            assert response.status_code == 200, f"GET / answered {response.status_code}."
    """,
    "tests/test_reads.py": """
        import pytest
        from app.reads import lookup

        pytestmark = pytest.mark.exercise("probe.reads")


        async def test_lookup_works():
            assert await lookup(1) is None
    """,
    "tests/test_secret.py": """
        from types import SimpleNamespace

        import pytest
        from app.tokens import signing_key

        pytestmark = pytest.mark.exercise("probe.secret")


        def test_tokens_are_signed_with_the_secret():
            settings = SimpleNamespace(secret_key=Masked())
            assert signing_key(settings) == "s3cret", "Sign with the secret (probe.secret)."


        class Masked:
            def __str__(self):
                return "**********"
    """,
    "tests/test_logging.py": """
        import pytest
        from app.reads import cached

        pytestmark = pytest.mark.exercise("probe.logging")


        def test_the_user_is_cached():
            assert cached(1) is not None, "cached() should return the user (probe.logging)."
    """,
    "tests/test_teardown.py": """
        import pytest

        pytestmark = pytest.mark.exercise("probe.teardown")


        @pytest.fixture
        def resource():
            yield "open"
            raise RuntimeError("the resource could not be closed")


        def test_uses_the_resource(resource):
            assert resource == "open"
    """,
    "tests/test_planted.py": """
        import httpx
        import pytest
        from app.wrapper import PassThrough

        pytestmark = pytest.mark.exercise("probe.planted")


        async def planted_bug(scope, receive, send):
            raise RuntimeError("a bug the test planted")


        async def test_a_bug_answers_a_problem():
            app = PassThrough(planted_bug)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/")
            assert response.status_code == 418, "The planted bug should be answered (probe)."
    """,
}


def line_of(relative: str, text: str) -> int:
    source = textwrap.dedent(APP[relative]).lstrip("\n").splitlines()
    return next(number for number, line in enumerate(source, start=1) if text in line)


@pytest.fixture(scope="module")
def probe_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("details") / "workshop"
    exercises = "".join(
        EXERCISE.format(name=name, files=str(files).replace("'", '"'))
        for name, files in EXERCISES.items()
    )
    chapter = root / "chapters/01-probe"
    (root / "chapters").mkdir(parents=True)
    (root / "chapters/workshop.toml").write_text(MANIFEST.format(exercises=exercises))
    for relative, text in {**APP, **TESTS}.items():
        (chapter / relative).parent.mkdir(parents=True, exist_ok=True)
        (chapter / relative).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run_check(root: Path, *args: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", "workshop", "check", "01", *args],
        env=dict(os.environ, **{ROOT_ENV: str(root)}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    return finished.stdout


@pytest.fixture(scope="module")
def report(probe_root) -> str:
    return run_check(probe_root)


def block_of(report: str, exercise: str) -> str:
    """The lines the report shows under one exercise."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if f". probe.{exercise} " in line)
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i] or lines[i].startswith("[")),
        len(lines),
    )
    return "\n".join(lines[start:end])


def test_a_call_not_awaited_is_named_with_its_line(report):
    line = line_of("app/cache.py", "raw = fetch(key)")

    assert f"`fetch(key)` was called but not awaited (app/cache.py:{line})" in block_of(
        report, "awaiting"
    ), report


def test_a_coroutine_dropped_without_await_is_named_from_pythons_warning(report):
    line = line_of("app/cache.py", "    cleanup()")

    block = block_of(report, "shutdown")
    assert f"`cleanup()` was called but not awaited (app/cache.py:{line})" in block, report


def test_an_unexpected_exception_names_the_learners_file_line_and_code(report):
    line = line_of("app/middleware.py", 'scope["method"]')

    block = block_of(report, "middleware")
    assert (
        f"Your code raised KeyError: 'method' at app/middleware.py:{line} (in __call__): "
        '`if scope["method"] == "HEAD":`'
    ) in block, report
    assert "handled a `lifespan` (or `websocket`) scope as if it were HTTP" in block


def test_an_exception_behind_a_500_is_still_located(report):
    line = line_of("app/main.py", "raise ValueError")

    block = block_of(report, "handler")
    assert "GET / answered 500." in block
    assert f"Your code raised ValueError: the handler broke at app/main.py:{line}" in block, report


def test_one_cause_is_explained_once_at_the_exercise_whose_file_holds_it(report):
    reads = block_of(report, "reads")

    assert "Fails with the same error as probe.handler: fix that one first" in reads, report
    assert "Your code raised" not in reads


def test_a_bug_the_test_planted_is_not_blamed_on_the_learners_code(report):
    block = block_of(report, "planted")

    assert "The planted bug should be answered" in block, report
    assert "Your code raised" not in block, (
        "the exception was raised by the test's own app, which the learner's middleware only "
        f"passed on: naming the middleware's line sends them to the wrong place:\n{block}"
    )


def test_a_known_trap_in_the_exercise_code_is_named(report):
    block = block_of(report, "secret")

    assert "`str()` of a `SecretStr` (or an f-string of it) is the mask" in block, report
    assert "`.get_secret_value()`" in block


def test_the_warnings_logged_during_a_failing_test_are_shown(report):
    block = block_of(report, "logging")

    assert "Logged during the test:" in block, report
    assert "WARNING app.reads: user cache write failed; serving from the database" in block


def test_a_failing_teardown_counts_its_test_once(report):
    block = block_of(report, "teardown")

    assert "(0/1 tests)" in block, f"one test, failed in its teardown:\n{report}"
    assert "RuntimeError: the resource could not be closed" in block


def test_tb_shows_pytests_traceback_and_without_it_there_is_none(probe_root, report):
    with_tracebacks = run_check(probe_root, "--tb", "--", "-k", "lifespan")

    assert "--- pytest's traceback of tests/test_middleware.py::" in with_tracebacks
    assert "E       KeyError: 'method'" in with_tracebacks, with_tracebacks
    assert "pytest's traceback" not in report
