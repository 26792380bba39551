"""The page the long form writes. The run itself is too long for pytest (its short forms
are the other tests here): these check that final/RELIABILITY.md says what the figures say,
failures included. That the command starts is tests/test_cli_harness_commands.py's."""

import subprocess
from dataclasses import asdict

import pytest

from harness.reliability.attacks import AttackOutcome
from harness.reliability.audit import Audit
from harness.reliability.checks import Idle
from harness.reliability.drill import DrillReport, FaultOutcome, report_dict
from harness.reliability.fuzz import FuzzResult
from harness.reliability.replicas import Phase, ReplicaReport
from harness.reliability.replicas import report_dict as replica_report_dict
from harness.reliability.report import render, update
from harness.reliability.run import code_version, problems_of
from harness.reliability.soak import SoakReport

IDLE = Idle(pool_in_use=0, postgres={"idle": 9}, redis_clients=12, redis_limit=128)


def _results(*, rows_lost: list[str], attack_outcome: str = "passed") -> dict:
    fault = FaultOutcome(
        name="Redis stopped and started",
        injected="Redis down 20.1 s, back empty",
        seconds=20.1,
        during={"ok": 900, "503 auth_unavailable": 1234},
        after={"ok": 700},
    )
    drill = DrillReport(
        clients=12,
        seconds=80.0,
        requests=5678,
        baseline={"ok": 300},
        faults=[fault],
        audit=Audit(registrations_acknowledged=432, rows=432, rows_lost=rows_lost),
        idle=IDLE,
        problems=[],
    )
    fuzz = FuzzResult(
        command="schemathesis run URL/openapi.json --checks all",
        exit_code=0,
        seconds=300.0,
        seed=42,
        operations=13,
        test_cases=4321,
        requests_answered=5000,
        failures=[],
        errors=[],
        answers={"POST /users": [201, 409, 422]},
        output_tail="",
    )
    soak = SoakReport(
        seconds=300,
        users=20,
        requests=98765,
        failures=0,
        failure_details=[],
        requests_per_second=329.2,
        p95_ms=41.0,
        requests_by_name={"GET /users/me": (30000, 0)},
        rss_after_warmup_mib=221.0,
        rss_end_mib=223.5,
        growth_mib=2.5,
        growth_last_half_mib=0.4,
        memory_samples_mib=[215.0, 221.0, 223.5],
        idle=IDLE,
    )
    attack = AttackOutcome(
        "tokens", "test_alg_none_is_refused[none]", "Attack: alg none.", attack_outcome
    )
    results = {
        "command": "uv run workshop reliability",
        "started": "2026-11-25 20:00 UTC",
        "code": "commit `0123456789ab`",
        "minutes": 15.2,
        "services": "PostgreSQL on the local port",
        "fuzz": asdict(fuzz),
        "attacks": {"outcomes": [asdict(attack)], "seconds": 20.0},
        "faults": report_dict(drill),
        "soak": asdict(soak),
        "machine": {
            "cores": 2,
            "memory_gib": 23.5,
            "python": "3.11.7",
            "summary": {
                "load_min": 1.5,
                "load_mean": 3.0,
                "load_max": 6.0,
                "busy_mean": 80.0,
                "suite_mean": 40.0,
                "others_mean": 40.0,
            },
        },
    }
    if rows_lost:
        results["faults"]["problems"] = [f"{len(rows_lost)} rows lost: {rows_lost}"]
    results["problems"] = problems_of(results)
    return results


def test_the_page_says_what_the_figures_say():
    """The summary carries each figure of the run, and a clean run's verdict says so."""
    page = render(_results(rows_lost=[]))

    assert "**Verdict: every check passed**" in page
    assert "| 4321 test cases, 5000 requests | 0 failures |" in page
    assert "| Attacks | 1 cases of 1 attacks | 1 refused as required |" in page
    assert "| Requests under fault | 2134 requests | 0 errors (not designed) |" in page
    assert "| Rows lost | 432 registrations acknowledged | 0 lost" in page
    assert "98765 requests in 300 s" in page
    assert "+2.5 MiB to the end, +0.4 MiB over the last half" in page
    assert "load average went from 1.5 to 6.0" in page
    assert "on commit `0123456789ab`" in page  # which code the figures describe


@pytest.mark.parametrize("broken", ["rows", "attack"])
def test_a_failed_check_makes_the_verdict_and_the_exit_status(broken):
    """A lost row or an attack that got through is a problem: the verdict names it, and the
    command's exit status (0 only without problems) follows problems_of."""
    results = _results(
        rows_lost=["a@example.com"] if broken == "rows" else [],
        attack_outcome="failed" if broken == "attack" else "passed",
    )

    page = render(results)

    assert results["problems"], "problems_of must report it"
    assert "**Verdict: 1 problems:" in page


def _replica_results(problems: list[str]) -> dict:
    phase = {"seconds": 10.0, "requests": 900, "failed": 0, "by_status": {}, "failed_reads": 0}
    report = ReplicaReport(
        users=20,
        seconds=70.0,
        requests=12345,
        phases=[
            Phase(name=name, p50_ms=12.0, p99_ms=p99, **phase)
            for name, p99 in (("before", 40.0), ("down", 95.5), ("after", 41.0))
        ],
        killed="app3 (pid 1) SIGKILLed, restarted 15 s later",
        restart_seconds=18.2,
        served_by_replica={"app1": 5000, "app2": 5000, "app3": 2345},
        served_by_killed_after_return=777,
        retries=0,
        redispatches=64,
        checks={"logout": "then [401, 401, 401]"},
        registrations_acknowledged=12,
        renames_acknowledged=480,
        rows_lost=[],
        renames_lost=[],
        problems=problems,
    )
    results = {
        "replicas": replica_report_dict(report),
        "command": "uv run workshop reliability replicas --update",
        "started": "2026-12-06 12:00 UTC",
        "minutes": 2.0,
        "machine": _results(rows_lost=[])["machine"],
    }
    results["problems"] = problems_of(results)
    return results


def test_a_run_of_one_check_replaces_its_section_and_keeps_the_rest():
    """`--update` rewrites the sections of the checks it ran, says when, and keeps every
    other section and the summary of the full run as they were."""
    full = render(_results(rows_lost=[]))
    old = update(full, _replica_results(problems=["reads failed while a replica was down"]))

    page = update(old, _replica_results(problems=[]))

    assert page.startswith(full.rstrip()), "the full run's page is kept as it was"
    assert page.count("## Replicas behind a load balancer") == 1, "replaced, not added twice"
    assert "**Verdict: every check passed.**" in page
    assert "| down | 10.0 | 900 | 0 | none | 12.0 | 95.5 |" in page
    assert "HAProxy sent 64 requests that met the dead replica to another one" in page
    assert "This section alone was written by `uv run workshop reliability replicas" in page
    assert "replicas: reads failed" in " ".join(problems_of(_replica_results(["reads failed"])))


def test_the_run_names_the_commit_it_ran_on(tmp_path):
    """The page names the code it measured: the commit, and a word when final/ was dirty."""
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "app.py").write_text("answer = 42\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert code_version(tmp_path) == f"commit `{head}`"
    (tmp_path / "app.py").write_text("answer = 43\n")
    assert code_version(tmp_path) == f"commit `{head}` with uncommitted changes in final/"
    assert code_version(tmp_path / "not-a-checkout").startswith("an unknown commit")
