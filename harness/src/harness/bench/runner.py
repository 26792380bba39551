"""One benchmark invocation, from the services to the summary.

For each run: start the server it names (its own database, migrated and seeded once per
code tree, and its own Redis prefix), log in the tokens it needs, warm up with a short Locust
run, measure with a second one while sampling CPU, stop the server, read the figures. Then
write the results folder: Locust's CSV and HTML per run, results.json, machine.json and
machine.md, the charts and summary.md.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import localservices as services
from harness import machine
from harness.bench import cpu, locust_run, report, seed
from harness.bench.plan import Run, Timing
from harness.bench.results import (
    RunResult,
    Status,
    read_failures,
    read_history,
    read_stats,
    steady_window,
    write_results,
)
from harness.bench.stack import Stack, StackError
from harness.bench.targets import evaluate
from harness.paths import REPO_ROOT
from harness.server import ServerError, UvicornServer, log_tail

SEEDED_USERS = 500
SHARED_TOKENS = 8  # readers share these: a read spends nothing
# One client IP sends every request here. The limiters still run (their Redis script is part
# of the cost of a login or a write) but with a limit no run reaches.
UNREACHABLE_RATE_LIMIT = "1000000"
SERVER_LOG_TAIL_LINES = 40

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Invocation:
    runs: list[Run]
    timing: Timing
    output_dir: Path
    smoke: bool = False


class RunFailed(RuntimeError):
    """A run could not be measured; the message says why (the run's logs say more)."""


def run_benchmarks(invocation: Invocation, progress: Progress) -> list[RunResult]:
    """Do every run of the invocation and write the complete results folder."""
    (invocation.output_dir / report.RUNS_DIR).mkdir(parents=True)
    load_before = _check_load(progress, seconds=1 if invocation.smoke else 3)
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: list[RunResult] = []
    secret_key = secrets.token_urlsafe(48)

    with (
        Stack(seeded_users=SEEDED_USERS) as stack,
        tempfile.TemporaryDirectory(prefix="benchmarks-") as scratch_dir,
    ):
        progress(stack.describe())
        for index, run in enumerate(invocation.runs, 1):
            label = f"[{index}/{len(invocation.runs)}] {run.name}"

            def say(message: str, label: str = label) -> None:
                progress(f"{label}: {message}")

            busy = None
            if run.server.tree.present:
                busy = machine.wait_until_quiet(invocation.timing.quiet_wait_seconds, say)
            result = _run_one(run, stack, Path(scratch_dir), invocation, secret_key, say)
            result.busy_before_percent = busy
            results.append(result)
        server_versions = machine.server_versions(
            services.plain_postgres_url(stack.found_postgres.url), stack.found_redis.url
        )
        machine_info = machine.describe(services_line=stack.describe(), servers=server_versions)

    progress("Writing the results folder...")
    document: dict[str, Any] = {
        "started_at": started_at,
        "smoke": invocation.smoke,
        "timing": asdict(invocation.timing),
        "machine": machine_info,
        "load_before": load_before,
        "load_after": machine.load_snapshot(sample_seconds=1),
        "targets": [target.to_dict() for target in evaluate(results, judged=not invocation.smoke)],
        "runs": [result.to_dict() for result in results],
    }
    _write_folder(invocation.output_dir, document, results)
    return results


def _check_load(progress: Progress, *, seconds: float) -> machine.LoadSnapshot:
    progress(f"Checking that the machine is quiet ({seconds:.0f} s)...")
    snapshot = machine.load_snapshot(sample_seconds=seconds)
    load = ", ".join(f"{value:.2f}" for value in snapshot["load_average"])
    quiet = "quiet" if snapshot["quiet"] else "NOT quiet: figures will be noisy"
    progress(f"Load average {load}, CPU {snapshot['cpu_busy_percent']:.0f} % busy: {quiet}.")
    return snapshot


def _write_folder(output_dir: Path, document: dict[str, Any], results: list[RunResult]) -> None:
    """results.json, machine.json and machine.md, then the charts and summary.md."""
    write_results(output_dir, document)
    loads = {"load_before": document["load_before"], "load_after": document["load_after"]}
    (output_dir / "machine.json").write_text(
        json.dumps({**document["machine"], **loads}, indent=2) + "\n"
    )
    (output_dir / "machine.md").write_text(
        machine.render_markdown(document["machine"], loads["load_before"], loads["load_after"])
    )
    report.write_report(output_dir, document, results)


def _unmeasured(run: Run, status: Status, message: str) -> RunResult:
    return RunResult(
        name=run.name,
        title=run.title,
        group=run.group,
        server=run.server.label,
        workers=run.server.workers,
        users=run.users,
        seconds=0,
        status=status,
        message=message,
    )


def _run_one(
    run: Run,
    stack: Stack,
    scratch: Path,
    invocation: Invocation,
    secret_key: str,
    say: Progress,
) -> RunResult:
    tree = run.server.tree
    if not tree.present:
        where = tree.directory.relative_to(REPO_ROOT)
        say(f"skipped: {where}/ is not in this checkout yet")
        return _unmeasured(run, "skipped", f"{where}/ is not in this checkout yet")
    try:
        return _measure(run, stack, scratch, invocation, secret_key, say)
    except (RunFailed, ServerError, StackError, seed.SeedError) as error:
        say(f"FAILED: {error}")
        return _unmeasured(run, "failed", str(error).splitlines()[0])


def server_settings(run: Run, stack: Stack, scratch: Path, secret_key: str) -> dict[str, str]:
    """The service's environment for this run, as production would set it."""
    tree = run.server.tree
    if not tree.uses_database:
        return {}
    database = stack.database_for(tree)
    metrics_dir = scratch / f"{run.name}-metrics"
    metrics_dir.mkdir()
    return {
        "ENVIRONMENT": "production",
        "DATABASE_URL": database.url,
        "REDIS_URL": stack.found_redis.url,
        "REDIS_KEY_PREFIX": stack.redis_prefix(run.name),
        "CACHE_ENABLED": "true" if run.server.cache_enabled else "false",
        "SECRET_KEY": secret_key,
        "LOGIN_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "WRITE_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "REGISTRATION_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "REFRESH_RATE_LIMIT": UNREACHABLE_RATE_LIMIT,
        "ACCOUNT_LOGIN_FAILURE_LIMIT": UNREACHABLE_RATE_LIMIT,
        # As in the Docker image: metrics shared by the workers through files.
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }


def _token_users(
    run: Run, users: list[seed.SeededUser], processes: int
) -> tuple[list[seed.SeededUser], list[seed.SeededUser]]:
    """(the warm-up's token holders, the measurement's) for the run's kind of tokens."""
    personal = run.users + processes  # spare pairs for uneven spreads over processes
    if run.tokens == "shared":
        return users[:SHARED_TOKENS], users[:SHARED_TOKENS]
    if run.tokens == "personal":
        return users[:personal], users[:personal]
    if run.tokens == "fresh":
        if 2 * personal > len(users):
            raise RunFailed(f"{run.name} needs {2 * personal} seeded users, {len(users)} exist")
        return users[:personal], users[personal : 2 * personal]
    return [], []


def _seed_files(
    run: Run, running: UvicornServer, stack: Stack, scratch: Path, processes: int, say: Progress
) -> tuple[Path | None, Path | None]:
    if not run.server.tree.uses_database:
        return None, None
    users = stack.database_for(run.server.tree).users
    warmup_holders, measure_holders = _token_users(run, users, processes)
    has_auth = seed.has_login(running.url)
    if run.tokens in ("personal", "fresh") and not has_auth:
        raise RunFailed(f"{run.name} needs POST /auth/token, which {run.server.label} lacks")
    tokens: dict[str, list[seed.TokenPair]] = {"warmup": [], "measure": []}
    if has_auth and (warmup_holders or measure_holders):
        holders = {user.id: user for user in warmup_holders + measure_holders}
        say(f"logging in {len(holders)} seeded users through POST /auth/token (argon2)")
        issued = seed.log_in(running.url, list(holders.values()))
        pairs = {pair.user_id: pair for pair in issued}
        tokens["warmup"] = [pairs[user.id] for user in warmup_holders]
        tokens["measure"] = [pairs[user.id] for user in measure_holders]
    files = []
    for phase in ("warmup", "measure"):
        path = scratch / f"{run.name}-{phase}-seed.json"
        files.append(
            seed.write_seed_file(path, users=users, tokens=tokens[phase], has_auth=has_auth)
        )
    return files[0], files[1]


def _measure(
    run: Run, stack: Stack, scratch: Path, invocation: Invocation, secret_key: str, say: Progress
) -> RunResult:
    timing = invocation.timing
    processes = timing.generator_processes
    run_dir = invocation.output_dir / report.RUNS_DIR / run.name
    run_dir.mkdir()
    if run.server.tree.uses_database and run.server.tree.label not in stack.seeded_trees:
        say(f"database for {run.server.tree.label}: create, migrate, seed {SEEDED_USERS} users")
    settings = server_settings(run, stack, scratch, secret_key)
    server_log = scratch / f"{run.name}-server.log"
    say(f"starting {run.server.label}")
    running = UvicornServer(
        name=run.server.label,
        directory=run.server.tree.directory,
        app=run.server.tree.app,
        settings=settings,
        log_path=server_log,
        workers=run.server.workers,
        ready_path=run.server.tree.ready_path,
    ).start()
    try:
        warmup_seed, measure_seed = _seed_files(run, running, stack, scratch, processes, say)
        locust_log = run_dir / "locust.log"
        say(f"warming up for {timing.warmup_seconds} s with {run.users} users")
        # One Locust process is plenty to warm up, and starts seconds faster than several.
        warmup = locust_run.LocustRun(
            run, running.url, timing.warmup_seconds, run.users, 1, warmup_seed, None
        )
        warmup_status = locust_run.wait(locust_run.start(warmup, locust_log), warmup, say)
        say(f"measuring for {timing.duration_seconds} s with {run.users} users")
        measured = locust_run.LocustRun(
            run,
            running.url,
            timing.duration_seconds,
            run.users,
            processes,
            measure_seed,
            run_dir,
        )
        process = locust_run.start(measured, locust_log)
        sampler = cpu.CpuSampler(
            server_pid=running.pid,
            generator_pid=process.pid,
            database_names=stack.database_names,
            redis_port=urlsplit(stack.found_redis.url).port,
        ).start()
        try:
            status = locust_run.wait(process, measured, say)
        finally:
            samples = sampler.stop()
    finally:
        running.stop()
        (run_dir / "server-tail.log").write_text(log_tail(server_log, SERVER_LOG_TAIL_LINES) + "\n")
    if status == -1:
        raise RunFailed(f"Locust did not finish in time; see {run_dir / 'locust.log'}")
    try:
        aggregate, endpoints = read_stats(run_dir)
    except (FileNotFoundError, StopIteration) as error:
        raise RunFailed(
            f"Locust wrote no statistics ({type(error).__name__}):\n{log_tail(locust_log)}"
        ) from error
    cpu.write_samples(samples, run_dir / report.CPU_SAMPLES)
    start, end = steady_window(read_history(run_dir), run.users)
    summary = cpu.summarize(samples, start, end)
    result = RunResult(
        name=run.name,
        title=run.title,
        group=run.group,
        server=run.server.label,
        workers=run.server.workers,
        users=run.users,
        seconds=timing.duration_seconds,
        status="measured",
        aggregate=aggregate,
        endpoints=endpoints,
        failures=read_failures(run_dir),
        cpu=summary.to_dict() if summary else None,
        bound=cpu.bound(summary, workers=run.server.workers, paced=run.paced),
        warmup_failed=warmup_status != 0,
    )
    say(
        f"{aggregate.rps:,.0f} req/s, p50 {aggregate.p50} ms, p99 {aggregate.p99} ms, "
        f"{aggregate.failures} failures; bounded by {result.bound}"
    )
    return result


def prepare_output(path: Path, *, replace: bool) -> Path:
    """The results folder to write; an existing one is replaced only when asked."""
    if path.exists() and any(path.iterdir()):
        if not replace:
            raise FileExistsError(f"{path} exists: pass --replace or choose another --output")
        shutil.rmtree(path)
    return path
