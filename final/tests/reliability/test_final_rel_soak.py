"""Load and soak: Locust runs the benchmarks' mixed journey against two workers for a fixed
time. The short form is a few seconds; `uv run workshop reliability soak` runs minutes."""

import pytest

from harness.reliability.soak import SoakTiming, run_soak

# A Locust soak: half a minute and more.
pytestmark = pytest.mark.slow

SHORT = SoakTiming(seconds=20, users=8, seeded_users=200)


@pytest.fixture(scope="module")
def soak(rel_stack, tmp_path_factory):
    return run_soak(rel_stack, tmp_path_factory.mktemp("soak"), SHORT)


def test_the_mixed_journey_runs_without_a_failure(soak, report_figure):
    """Every request of the journey (reads, lists, renames, refreshes, logouts and logins,
    registrations) succeeds under steady load."""
    report_figure(
        f"soak: {soak.requests} requests in {soak.seconds} s by {soak.users} Locust users "
        f"({soak.requests_per_second} req/s, p95 {soak.p95_ms:g} ms), {soak.failures} failures"
    )

    assert soak.requests > 0, "Locust sent nothing: see locust.log"
    assert soak.failures == 0, "\n".join(soak.failure_details)


def test_memory_stops_growing_and_connections_end_idle(soak, report_figure):
    """The workers' memory settles after the warm-up instead of growing with every request,
    and once the load stops no connection is left checked out or busy."""
    report_figure(
        f"soak memory: {soak.rss_after_warmup_mib} MiB after warm-up, {soak.rss_end_mib} MiB "
        f"at the end ({soak.growth_mib:+} MiB, {soak.growth_last_half_mib:+} MiB over the last "
        f"half); idle: {soak.idle.postgres} PostgreSQL, {soak.idle.redis_clients} Redis"
    )

    assert soak.growth_last_half_mib <= SHORT.max_growth_last_half_mib, soak.memory_samples_mib
    assert not soak.idle.problems, "\n".join(soak.idle.problems)
