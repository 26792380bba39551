"""Three servers behind HAProxy, one killed under load and brought back
(harness/src/harness/reliability/replicas.py):
nothing acknowledged is lost, limits and logouts hold across replicas, the proxy fails over.
The short form keeps the kill a few seconds; `uv run workshop reliability replicas --update` holds
it longer and writes the figures into final/RELIABILITY.md."""

import pytest

from harness.reliability.replicas import ReplicaTiming, run_replica_drill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SHORT = ReplicaTiming(users=6, warmup_seconds=3, down_seconds=3, recovery_seconds=8)


@pytest.fixture(scope="module")
def drill(postgres_service, redis_url, redis_namespace, tmp_path_factory):
    return run_replica_drill(
        postgres_service.url,
        redis_url,
        f"{redis_namespace}replicas:",
        tmp_path_factory.mktemp("replicas"),
        SHORT,
    )


def _problems(drill, *words: str) -> list[str]:
    return [p for p in drill.problems if any(word in p for word in words)]


def test_a_login_ended_through_one_replica_is_refused_by_all(drill, report_figure):
    """Log in through the proxy, log out through one replica: the token and its refresh
    token are refused by every replica (the login lives in the shared Redis)."""
    report_figure(f"replicas, logout: {drill.checks['logout']}")

    assert not _problems(drill, "logout", "login ended"), drill.checks["logout"]


def test_the_login_limits_hold_across_replicas(drill, report_figure):
    """An address's logins and an account's wrong passwords are counted once for all the
    replicas, and a client's own X-Forwarded-For buys no fresh budget behind the proxy."""
    report_figure(f"replicas, login limit: {drill.checks['login limit']}")
    report_figure(f"replicas, guess limit: {drill.checks['guess limit']}")

    assert not _problems(drill, "budget", "login limit", "guess limit", "several replicas")


def test_the_proxy_fails_over_while_a_replica_is_down(drill, report_figure):
    """While one replica is dead, reads keep succeeding through the others; once it is back
    the proxy sends it requests again, and no request fails with every replica up."""
    before, during, _ = drill.phases
    report_figure(
        f"replicas, kill: {drill.killed}; {during.requests} requests while down "
        f"({during.failed} failed: {during.by_status}), p99 {during.p99_ms} ms against "
        f"{before.p99_ms} ms before; {drill.retries} retries, {drill.redispatches} redispatched"
    )

    assert during.requests, "no load while the replica was down: the kill proved nothing"
    assert not _problems(drill, "failed", "never sent", "no request"), "\n".join(drill.problems)
    assert drill.served_by_killed_after_return > 0


def test_no_acknowledged_write_is_lost(drill, report_figure):
    """Every registration and rename the service acknowledged (201, 200) is in the database,
    whichever replica answered it and whichever died."""
    report_figure(
        f"replicas, audit: {drill.registrations_acknowledged} registrations and "
        f"{drill.renames_acknowledged} renames acknowledged; {len(drill.rows_lost)} and "
        f"{len(drill.renames_lost)} lost"
    )

    assert drill.renames_acknowledged > 0, "no write was acknowledged: nothing was audited"
    assert not drill.rows_lost, drill.rows_lost
    assert not drill.renames_lost, drill.renames_lost
