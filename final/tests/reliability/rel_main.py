"""The long forms of the reliability suite, and final/RELIABILITY.md written from the run.

    uv run python -m reliability                  every check, long (about 15 minutes)
    uv run python -m reliability faults soak      some of them
    uv run python -m reliability --quick          every check, briefly (a few minutes)
    uv run python -m reliability --render FILE    write the page again from a results.json

Logs, reports and results.json go to .workshop/reliability/<time>/; the page goes to
final/RELIABILITY.md unless --output says otherwise. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rel_attacks import run_attack_tests
from rel_drill import DrillTiming, report_dict, run_drill
from rel_fuzz import run_schemathesis
from rel_machine import MachineSampler
from rel_report import render
from rel_soak import SoakTiming, run_soak
from rel_stack import REPO_ROOT, suite_stack

import localservices as services

CHECKS = ("fuzz", "attacks", "faults", "soak")
DEFAULT_OUTPUT = REPO_ROOT / "final" / "RELIABILITY.md"


@dataclass(frozen=True)
class Plan:
    fuzz_examples: int
    fuzz_seconds: int | None
    drill: DrillTiming
    soak: SoakTiming


LONG = Plan(
    fuzz_examples=200,
    fuzz_seconds=300,
    drill=DrillTiming(clients=12, warmup_seconds=5, fault_seconds=20, recovery_seconds=15),
    soak=SoakTiming(seconds=300, users=20, seeded_users=1000),
)
QUICK = Plan(
    fuzz_examples=20,
    fuzz_seconds=None,
    drill=DrillTiming(clients=6, warmup_seconds=2, fault_seconds=3, recovery_seconds=3),
    soak=SoakTiming(seconds=20, users=8, seeded_users=200),
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reliability",
        description="Run the reliability suite's long forms and write final/RELIABILITY.md.",
    )
    parser.add_argument("checks", nargs="*", help=f"some of {', '.join(CHECKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="every check briefly")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the page to write")
    parser.add_argument("--render", type=Path, metavar="RESULTS", help="only render this file")
    arguments = parser.parse_args(argv)
    if unknown := set(arguments.checks) - set(CHECKS):
        parser.error(f"unknown checks {sorted(unknown)}: choose among {', '.join(CHECKS)}")
    return arguments


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(checks: list[str], plan: Plan, work_dir: Path) -> dict:
    postgres = services.find_postgres()
    redis = services.find_redis()
    results: dict = {"services": services.announce(postgres, redis).removeprefix("services: ")}
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
    results["machine"] = {**asdict(machine.load), "summary": machine.load.summary()}
    return results


def problems_of(results: dict) -> list[str]:
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
    return problems


def _stop_on_sigterm(signal_number, frame) -> None:
    raise SystemExit(f"stopped by signal {signal_number}")  # so every cleanup runs


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.render:
        results = json.loads(arguments.render.read_text())
        arguments.output.write_text(render(results))
        say(f"wrote {arguments.output}")
        return 0 if not results["problems"] else 1
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    checks = arguments.checks or list(CHECKS)
    plan = QUICK if arguments.quick else LONG
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    work_dir = REPO_ROOT / ".workshop" / "reliability" / stamp
    work_dir.mkdir(parents=True)
    started = time.monotonic()
    results = run(checks, plan, work_dir)
    results["command"] = " ".join(["uv run python -m reliability", *(argv or sys.argv[1:])])
    results["started"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["minutes"] = (time.monotonic() - started) / 60
    results["plan"] = asdict(plan)
    results["problems"] = problems_of(results)
    (work_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    arguments.output.write_text(render(results))
    say(f"wrote {arguments.output} and {work_dir / 'results.json'}")
    for problem in results["problems"]:
        say(f"PROBLEM {problem}")
    return 0 if not results["problems"] else 1
