"""Fixtures of the reliability suite: a stack of its own, and the figures it prints.

The short forms run here, inside `uv run pytest`; the long forms run from
`uv run workshop reliability` (harness/src/harness/reliability/), which also writes
final/RELIABILITY.md.
"""

from collections.abc import Iterator

import pytest

from harness.reliability.stack import Stack, suite_stack

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def rel_stack(postgres_service, tmp_path_factory) -> Iterator[Stack]:
    """A migrated database and a Redis server of the suite's own, for the whole session."""
    with suite_stack(postgres_service.url, tmp_path_factory.mktemp("reliability")) as stack:
        yield stack


@pytest.fixture
def report_figure(request: pytest.FixtureRequest):
    """`report_figure("...")`: a line printed in the run's summary (not captured away)."""
    figures = request.config.stash.setdefault(_FIGURES, [])
    return figures.append


@pytest.fixture(autouse=True)
def _statement(request: pytest.FixtureRequest) -> None:
    """Each test's docstring (the attack and what the service must answer) goes into the
    JUnit report, where the long run reads it for final/RELIABILITY.md."""
    doc = (request.function.__doc__ or "").strip()
    if doc:
        request.node.user_properties.append(("statement", " ".join(doc.split())))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if figures := config.stash.get(_FIGURES, None):
        terminalreporter.section("reliability (short forms)")
        for line in figures:
            terminalreporter.write_line(line)
