"""The long forms of the reliability suite, and final/RELIABILITY.md written from the run.

    uv run workshop reliability                   every check, long (about 15 minutes)
    uv run workshop reliability faults soak       some of them
    uv run workshop reliability --quick           every check, briefly (a few minutes)
    uv run workshop reliability --render FILE     write the page again from a results.json
    uv run workshop reliability replicas --update  rewrite only that check's section

Logs, reports and results.json go to .workshop/reliability/<time>/; the page goes to
final/RELIABILITY.md unless --output says otherwise. Exit status 0 when every check passed.
The command line itself is `workshop/harness_commands.py` (typer).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import localservices as services
from harness.machine import MachineSampler
from harness.paths import FINAL_DIR, STATE_DIR
from harness.reliability.attacks import run_attack_tests
from harness.reliability.drill import DrillTiming, report_dict, run_drill
from harness.reliability.fuzz import run_schemathesis
from harness.reliability.replicas import ReplicaTiming, run_replica_drill
from harness.reliability.replicas import report_dict as replica_report_dict
from harness.reliability.report import Results, render, update
from harness.reliability.soak import SoakTiming, run_soak
from harness.reliability.stack import suite_stack

CHECKS = ("fuzz", "attacks", "faults", "soak", "replicas")
DEFAULT_OUTPUT = FINAL_DIR / "RELIABILITY.md"
COMMAND = "uv run workshop reliability"


@dataclass(frozen=True)
class Plan:
    fuzz_examples: int
    fuzz_seconds: int | None
    drill: DrillTiming
    soak: SoakTiming
    replicas: ReplicaTiming


LONG = Plan(
    fuzz_examples=200,
    fuzz_seconds=300,
    drill=DrillTiming(clients=12, warmup_seconds=5, fault_seconds=20, recovery_seconds=15),
    soak=SoakTiming(seconds=300, users=20, seeded_users=1000),
    replicas=ReplicaTiming(
        users=20, warmup_seconds=20, down_seconds=15, recovery_seconds=25, seeded_users=1000
    ),
)
QUICK = Plan(
    fuzz_examples=20,
    fuzz_seconds=None,
    drill=DrillTiming(clients=6, warmup_seconds=2, fault_seconds=3, recovery_seconds=3),
    soak=SoakTiming(seconds=20, users=8, seeded_users=200),
    replicas=ReplicaTiming(users=6, warmup_seconds=3, down_seconds=3, recovery_seconds=8),
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(checks: list[str], plan: Plan, work_dir: Path) -> Results:
    postgres = services.find_postgres()
    redis = services.find_redis()
    results: Results = {"services": services.announce(postgres, redis).removeprefix("services: ")}
    say(results["services"] + "; the suite's own Redis and database are made for the run")
    with MachineSampler() as machine, suite_stack(postgres.url, work_dir / "stack") as stack:
        if "fuzz" in checks:
            say(f"fuzz: Schemathesis, {plan.fuzz_examples} examples per operation and round")
            fuzz = run_schemathesis(
                stack,
                work_dir / "fuzz",
                max_examples=plan.fuzz_examples,
                max_seconds=plan.fuzz_seconds,
            )
            results["fuzz"] = asdict(fuzz)
            say(fuzz.summary())
        if "attacks" in checks:
            say("attacks: the attack and regression tests, in pytest")
            outcomes, seconds = run_attack_tests(work_dir / "attacks")
            results["attacks"] = {"outcomes": [asdict(o) for o in outcomes], "seconds": seconds}
            say(f"{sum(o.outcome == 'passed' for o in outcomes)} of {len(outcomes)} passed")
        if "faults" in checks:
            say(f"faults: {plan.drill.fault_seconds} s each under {plan.drill.clients} clients")
            results["faults"] = report_dict(run_drill(stack, work_dir / "faults", plan.drill))
            say(f"{len(results['faults']['problems'])} problems")
        if "soak" in checks:
            say(f"soak: Locust, {plan.soak.users} users for {plan.soak.seconds} s")
            soak = run_soak(stack, work_dir / "soak", plan.soak)
            results["soak"] = asdict(soak)
            say(f"{soak.requests} requests, {soak.failures} failures, {soak.growth_mib:+} MiB")
        if "replicas" in checks:
            say(f"replicas: three servers behind HAProxy, {plan.replicas.users} Locust users")
            drill = run_replica_drill(
                postgres.url,
                redis.url,
                f"rel-replicas-{work_dir.name}:",
                work_dir / "replicas",
                plan.replicas,
            )
            results["replicas"] = replica_report_dict(drill)
            say(f"{drill.requests} requests, {len(drill.problems)} problems")
    results["machine"] = {**asdict(machine.load), "summary": machine.load.summary()}
    return results


def code_version(folder: Path = FINAL_DIR) -> str:
    """The commit the suite ran on, so the page says which code its figures describe; with a
    word when final/ had changes not yet committed (figures of code no commit holds)."""
    git = ["git", "-C", str(folder)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit (not a git checkout)"
    return f"commit `{commit}`" + (" with uncommitted changes in final/" if dirty else "")


def problems_of(results: Results) -> list[str]:
    problems = []
    if fuzz := results.get("fuzz"):
        problems += [f"fuzz: {f['code']} {f['title']}" for f in fuzz["failures"]]
        problems += [f"fuzz error: {error}" for error in fuzz["errors"]]
        if fuzz["exit_code"] != 0 and not fuzz["failures"]:
            problems.append(f"fuzz: Schemathesis exited with {fuzz['exit_code']}")
    if attacks := results.get("attacks"):
        problems += [
            f"attack {a['test']}: {a['outcome']}"
            for a in attacks["outcomes"]
            if a["outcome"] != "passed"
        ]
        if not attacks["outcomes"]:
            problems.append("attacks: no test ran (see attacks/pytest.log)")
    if faults := results.get("faults"):
        problems += [f"faults: {problem}" for problem in faults["problems"]]
    if soak := results.get("soak"):
        problems += [f"soak: {problem}" for problem in soak["problems"]]
    if replicas := results.get("replicas"):
        problems += [f"replicas: {problem}" for problem in replicas["problems"]]
    return problems


def _stop_on_sigterm(signal_number: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signal_number}")  # so every cleanup runs


class UnknownChecks(ValueError):
    """Checks were named that the suite does not have."""


def write_page(results: Results, output: Path, *, update_only: bool) -> None:
    """The page from a run's results; with `update_only`, only that run's sections are
    replaced in the page there (the rest, its summary included, is kept)."""
    if update_only and output.is_file():
        output.write_text(update(output.read_text(), results))
    else:
        output.write_text(render(results))


def render_page(results_path: Path, output: Path, *, update_only: bool = False) -> int:
    """Write the page again from a run's results.json; 0 when that run had no problem."""
    results: Results = json.loads(results_path.read_text())
    write_page(results, output, update_only=update_only)
    say(f"wrote {output}")
    return 0 if not results["problems"] else 1


def run_suite(
    checks: list[str],
    *,
    quick: bool,
    output: Path,
    arguments: list[str],
    update_only: bool = False,
) -> int:
    """Run the checks (default: all), write results.json and the page; 0 when all passed.

    `arguments` are the command's own, recorded on the page as the command that made it.
    """
    if unknown := set(checks) - set(CHECKS):
        raise UnknownChecks(f"unknown checks {sorted(unknown)}: choose among {', '.join(CHECKS)}")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    plan = QUICK if quick else LONG
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    work_dir = STATE_DIR / "reliability" / stamp
    work_dir.mkdir(parents=True)
    started = time.monotonic()
    results = run(checks or list(CHECKS), plan, work_dir)
    results["command"] = " ".join([COMMAND, *arguments])
    results["started"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["minutes"] = (time.monotonic() - started) / 60
    results["plan"] = asdict(plan)
    results["code"] = code_version()
    results["problems"] = problems_of(results)
    (work_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    write_page(results, output, update_only=update_only)
    say(f"wrote {output} and {work_dir / 'results.json'}")
    for problem in results["problems"]:
        say(f"PROBLEM {problem}")
    return 0 if not results["problems"] else 1
