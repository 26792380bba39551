"""Faults under a steady load from another process: Redis stopped and started, PostgreSQL
terminating the service's connections, one of two servers killed. The short form keeps
each fault a few seconds; `uv run workshop reliability faults` holds them longer."""

import pytest

from harness.reliability.drill import DrillTiming, run_drill

# Faults injected under load: half a minute and more.
pytestmark = pytest.mark.slow

SHORT = DrillTiming(clients=6, warmup_seconds=2, fault_seconds=3, recovery_seconds=3)


@pytest.fixture(scope="module")
def drill(rel_stack, tmp_path_factory):
    return run_drill(rel_stack, tmp_path_factory.mktemp("drill"), SHORT)


def _figure(result) -> str:
    outcomes = ", ".join(f"{n} {kind}" for kind, n in sorted(result.during.items()))
    return (
        f"{result.name}: {result.injected}; {result.requests_during} requests during it "
        f"({100 * result.error_rate_during:.1f} % not 2xx): {outcomes}"
    )


@pytest.mark.parametrize("fault", [0, 1, 2], ids=["redis", "postgres", "kill"])
def test_the_service_keeps_answering_and_recovers(drill, fault, report_figure):
    """During the fault only designed answers (2xx, or 503 with Retry-After while a
    dependency is away; refused or cut only by the killed server); once it clears,
    every answer is 2xx again, without restarting anything."""
    result = drill.faults[fault]
    report_figure(_figure(result))

    assert not result.problems, "\n".join(result.problems[:20])
    assert result.after, f"no requests after {result.name}: the recovery was not observed"


def test_nothing_is_lost_or_written_twice(drill, report_figure):
    """Every 201 the clients saw is a row with that id, no email has two rows, no row
    appears that nobody asked for, and no acknowledged rename was lost."""
    audit = drill.audit
    report_figure(
        f"audit: {audit.registrations_acknowledged} registrations acknowledged, "
        f"{audit.rows} rows, {len(audit.rows_lost)} lost, {len(audit.duplicates)} twice; "
        f"{audit.renames_acknowledged} renames acknowledged, {len(audit.lost_updates)} lost"
    )

    assert audit.registrations_acknowledged > 0
    assert not audit.problems, "\n".join(audit.problems)


def test_the_faults_were_felt_and_the_connections_end_idle(drill):
    """A fault nobody noticed proves nothing; and once the load stops, no pool connection is
    still checked out, every PostgreSQL backend is idle, Redis holds no more than its pools."""
    proof = [p for p in drill.problems if p not in _listed_elsewhere(drill)]

    assert not proof, "\n".join(proof)
    assert not drill.idle.problems, "\n".join(drill.idle.problems)


def _listed_elsewhere(drill) -> set[str]:
    listed = {p for result in drill.faults for p in result.problems}
    return listed | set(drill.audit.problems) | set(drill.idle.problems)
