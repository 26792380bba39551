"""The fault drill: two servers under a steady load from another process, and three faults
in turn, each followed by a quiet spell in which the service must be whole again.

1. Redis stops, then starts again (empty, as after a crash).
2. PostgreSQL terminates the service's connections from the server side, again and again.
3. One of the two servers is killed with SIGKILL, then started again (as an orchestrator
   would); the load sends what the dead one refuses to the other.

Every answer is classed: ok; a designed degradation (503 with Retry-After and its problem
code, while a dependency is away); refused or cut (only the killed server may do that); or
an error, which fails the drill wherever it happens. Then the audit counts rows lost.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.reliability.audit import Audit, audit
from harness.reliability.checks import Idle, idle_state, terminate_backends
from harness.reliability.load import AttemptRecord, JournalRecord, Spec
from harness.reliability.stack import Stack
from harness.server import UvicornServer

LOAD_MODULE = "harness.reliability.load"
# 503s the service answers on purpose while a dependency is away.
DESIGNED_503_CODES = {"auth_unavailable", "database_unavailable"}
OK = {"ok", "ok (already applied)"}
REFUSED, CUT = "refused (sent to the other server)", "cut (no answer)"
SWEEP_EVERY_SECONDS = 0.5  # how often PostgreSQL's connections are terminated in its fault
GRACE_SECONDS = 1.5  # after a fault clears, before every answer must be ok again


@dataclass(frozen=True)
class DrillTiming:
    clients: int = 8
    warmup_seconds: float = 3
    fault_seconds: float = 4
    recovery_seconds: float = 4
    think_seconds: tuple[float, float] = (0.02, 0.08)


@dataclass
class Fault:
    name: str
    injected: str  # what was done, in numbers
    started: float
    cleared: float
    ended: float = 0.0  # when the next fault started (or the load stopped)
    killed_server: int | None = None
    # Answers designed for this fault beyond 2xx and 503s: a Redis that comes back empty has
    # lost every login, so a token is refused (401 login_ended) until its client logs in again.
    also_designed: frozenset[str] = frozenset()

    @property
    def settled(self) -> float:
        return self.cleared + GRACE_SECONDS


@dataclass
class FaultOutcome:
    name: str
    injected: str
    seconds: float
    during: dict[str, int]  # outcome -> attempts, from the fault until it settled
    after: dict[str, int]  # outcome -> attempts, once settled
    during_by_action: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def failovers(self) -> int:
        """Attempts a server refused, which the client sent to the other server at once."""
        return self.during.get(REFUSED, 0)

    @property
    def requests_during(self) -> int:
        """Requests that got an answer (or were cut), each counted once despite failovers."""
        return sum(self.during.values()) - self.failovers

    @property
    def error_rate_during(self) -> float:
        """The share of requests during the fault that did not get a 2xx."""
        not_ok = sum(n for kind, n in self.during.items() if kind not in OK | {REFUSED})
        return not_ok / max(1, self.requests_during)


@dataclass
class DrillReport:
    clients: int
    seconds: float
    requests: int
    baseline: dict[str, int]
    faults: list[FaultOutcome]
    audit: Audit
    idle: Idle
    problems: list[str]


def outcome(attempt: AttemptRecord) -> str:
    if attempt["transport"] == "refused":
        return REFUSED
    if attempt["transport"] == "cut":
        return CUT
    if attempt["wrong_data"]:
        return f"wrong data: {attempt['wrong_data']}"
    status, code = attempt["status"], attempt["code"]
    assert status is not None, "an attempt without a transport failure has an answer"
    if 200 <= status < 300:
        return "ok"
    if status == 409 and attempt["action"] == "register":
        return "ok (already applied)"  # a retry of a registration whose answer was lost
    if not attempt["problem"]:
        return f"{status} without a problem document"
    if status == 503 and attempt["retry_after"] and code in DESIGNED_503_CODES:
        return f"503 {code}"
    return f"{status} {code}"


def _phase_problems(
    fault: Fault, during: list[AttemptRecord], after: list[AttemptRecord]
) -> list[str]:
    problems = []
    for attempt in during:
        kind = outcome(attempt)
        from_killed = attempt["server"] == fault.killed_server
        allowed = kind in OK or (kind.startswith("503 ") and fault.killed_server is None)
        allowed |= kind in fault.also_designed
        allowed |= kind in {REFUSED, CUT} and from_killed
        if not allowed:
            problems.append(f"during {fault.name}: {attempt['action']} got {kind}")
    for attempt in after:
        if outcome(attempt) not in OK:
            problems.append(f"after {fault.name}: {attempt['action']} got {outcome(attempt)}")
    return problems


def phase_of(attempt: AttemptRecord, faults: list[Fault]) -> tuple[int, str]:
    """(fault index, "during" or "after"), or (-1, "before") for the baseline. An attempt
    that overlaps a fault belongs to it, even if it started before."""
    for number, fault in enumerate(faults):
        if attempt["started"] < fault.settled and attempt["ended"] >= fault.started:
            return number, "during"
    for number, fault in reversed(list(enumerate(faults))):
        if attempt["started"] >= fault.settled:
            return number, "after"
    return -1, "before"


def _by_action(attempts: list[AttemptRecord]) -> dict[str, dict[str, int]]:
    actions: dict[str, Counter[str]] = {}
    for attempt in attempts:
        actions.setdefault(attempt["action"], Counter())[outcome(attempt)] += 1
    return {action: dict(counts) for action, counts in sorted(actions.items())}


def judge(
    faults: list[Fault], attempts: list[AttemptRecord]
) -> tuple[dict[str, int], list[FaultOutcome]]:
    """Split the attempts by fault and phase, count their outcomes and list what is wrong."""
    phases: dict[tuple[int, str], list[AttemptRecord]] = {}
    for attempt in attempts:
        phases.setdefault(phase_of(attempt, faults), []).append(attempt)
    outcomes = []
    for number, fault in enumerate(faults):
        during, after = phases.get((number, "during"), []), phases.get((number, "after"), [])
        outcomes.append(
            FaultOutcome(
                name=fault.name,
                injected=fault.injected,
                seconds=round(fault.cleared - fault.started, 1),
                during=dict(Counter(outcome(a) for a in during)),
                after=dict(Counter(outcome(a) for a in after)),
                during_by_action=_by_action(during),
                problems=_phase_problems(fault, during, after),
            )
        )
    baseline = dict(Counter(outcome(a) for a in phases.get((-1, "before"), [])))
    return baseline, outcomes


# --- the faults ------------------------------------------------------------------------------


def stop_redis(stack: Stack, timing: DrillTiming) -> Fault:
    started = time.time()
    stack.redis.stop()
    time.sleep(timing.fault_seconds)
    stack.redis.start()
    return Fault(
        "Redis stopped and started",
        f"Redis down {time.time() - started:.1f} s, back empty",
        started,
        time.time(),
        also_designed=frozenset({"401 login_ended"}),
    )


def terminate_postgres_connections(stack: Stack, app_name: str, timing: DrillTiming) -> Fault:
    started = time.time()
    terminated = sweeps = 0
    while time.time() - started < timing.fault_seconds:
        terminated += terminate_backends(stack.database_url, app_name)
        sweeps += 1
        time.sleep(SWEEP_EVERY_SECONDS)
    return Fault(
        "PostgreSQL connections terminated",
        f"{terminated} backends terminated in {sweeps} sweeps",
        started,
        time.time(),
    )


def kill_one_server(server: UvicornServer, number: int, timing: DrillTiming) -> Fault:
    started = time.time()
    pid = server.pid
    server.kill()
    time.sleep(timing.fault_seconds)
    server.start()  # as an orchestrator replaces a dead container
    return Fault(
        "one of two servers killed",
        f"server {server.name} (pid {pid}) SIGKILLed, replaced after {time.time() - started:.1f} s",
        started,
        time.time(),
        killed_server=number,
    )


# --- the drill ------------------------------------------------------------------------------


def run_drill(stack: Stack, work_dir: Path, timing: DrillTiming) -> DrillReport:
    settings = stack.settings("drill")
    work_dir.mkdir(parents=True, exist_ok=True)
    app_name = settings["APP_NAME"]
    servers = [stack.server(name, settings, work_dir) for name in ("A", "B")]
    spec_path, result_path = work_dir / "load-spec.json", work_dir / "load.json"
    spec: Spec = {
        "servers": [server.url for server in servers],
        "clients": timing.clients,
        "think_seconds": list(timing.think_seconds),
        "email_domain": f"{app_name}.example.com",
        "max_seconds": 3600,  # a safety net: the drill stops the load itself
    }
    spec_path.write_text(json.dumps(spec))
    load: subprocess.Popen[bytes] | None = None
    try:
        for server in servers:
            server.start()
        with (work_dir / "load.log").open("ab") as log:
            load = subprocess.Popen(
                [sys.executable, "-m", LOAD_MODULE, str(spec_path), str(result_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        load_started = time.time()
        time.sleep(timing.warmup_seconds)
        faults: list[Fault] = []
        injections: tuple[Callable[[], Fault], ...] = (
            lambda: stop_redis(stack, timing),
            lambda: terminate_postgres_connections(stack, app_name, timing),
            lambda: kill_one_server(servers[1], 1, timing),
        )
        for inject in injections:
            fault = inject()
            if faults:
                faults[-1].ended = fault.started
            faults.append(fault)
            time.sleep(timing.recovery_seconds)
        faults[-1].ended = time.time()
        load.send_signal(signal.SIGTERM)
        if load.wait(timeout=60) != 0:
            raise RuntimeError(f"the load process failed: see {work_dir / 'load.log'}")
        seconds = time.time() - load_started
        journal: JournalRecord = json.loads(result_path.read_text())
        time.sleep(0.5)  # the last answers' connections go back to their pools
        idle = idle_state(
            server_urls=[server.url for server in servers],
            database_url=stack.database_url,
            app_name=app_name,
            redis=stack.redis,
            redis_limit=len(servers) * int(settings.get("REDIS_MAX_CONNECTIONS", 64)),
        )
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        for server in servers:
            server.stop()
    baseline, outcomes = judge(faults, journal["attempts"])
    ledger = audit(stack.database_url, journal, spec["email_domain"])
    problems = [f"before the faults: {kind}" for kind in baseline if kind not in OK]
    for result in outcomes:
        problems += result.problems
    problems += ledger.problems + idle.problems
    problems += _proof_the_faults_bit(outcomes)
    return DrillReport(
        clients=timing.clients,
        seconds=round(seconds, 1),
        requests=len(journal["attempts"]),
        baseline=baseline,
        faults=outcomes,
        audit=ledger,
        idle=idle,
        problems=problems,
    )


def _proof_the_faults_bit(outcomes: list[FaultOutcome]) -> list[str]:
    """A fault nobody felt proves nothing: each must have shown in the answers."""
    redis, postgres, kill = outcomes
    problems = []
    if not redis.during.get("503 auth_unavailable"):
        problems.append("Redis was stopped, yet no authenticated request was refused (503)")
    if not any(redis.during.get(kind) for kind in OK):
        problems.append("with Redis stopped nothing succeeded: registration should still work")
    if postgres.injected.startswith("0 backends"):
        problems.append("no PostgreSQL connection of the service was found to terminate")
    if not kill.during.get(REFUSED):
        problems.append("the killed server never refused a connection: was it killed?")
    return problems


def report_dict(report: DrillReport) -> dict[str, Any]:
    data = asdict(report)
    for fault, result in zip(data["faults"], report.faults, strict=True):
        fault["requests_during"] = result.requests_during
        fault["failovers"] = result.failovers
        fault["error_rate_during"] = round(result.error_rate_during, 4)
    return data
