"""What one benchmark invocation measures: the code trees, the servers and the runs.

Everything is compared inside one invocation, because on a shared two-core machine only
ratios taken minutes apart hold: the bare framework ceiling, the service's scenarios, cache
on against cache off, and the chapter solutions against each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from harness.paths import BENCHMARKS_DIR, FINAL_DIR, SOLUTIONS_DIR

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
RESULTS_DIR = BENCHMARKS_DIR / "results"
BASELINE_DIR = RESULTS_DIR / "baseline"
# Where the ceiling's module lives: the harness's own source folder.
HARNESS_SOURCES = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CodeTree:
    """A service that uvicorn can serve: `app` (a factory) run from `directory`."""

    label: str  # "final", "02-database", "ceiling"
    directory: Path
    app: str = "app.main:create_app"
    ready_path: str = "/health/ready"
    uses_database: bool = True

    @property
    def present(self) -> bool:
        module = self.app.split(":")[0].replace(".", "/") + ".py"
        return (self.directory / module).is_file()


FINAL = CodeTree("final", FINAL_DIR)
# The same uvicorn, the same flags, one trivial route: what the framework alone can serve.
CEILING = CodeTree(
    "ceiling",
    HARNESS_SOURCES,
    app="harness.bench.ceiling_app:create_app",
    ready_path="/ping",
    uses_database=False,
)
# The chapters a learner builds, in order; each one's solution is served like `final/`.
CHAPTERS = (
    CodeTree("02-database", SOLUTIONS_DIR / "02-database", ready_path="/health/live"),
    CodeTree("03-cache", SOLUTIONS_DIR / "03-cache", ready_path="/health/live"),
    CodeTree("04-auth", SOLUTIONS_DIR / "04-auth", ready_path="/health/live"),
    CodeTree("05-errors", SOLUTIONS_DIR / "05-errors", ready_path="/health/live"),
    CodeTree("06-testing", SOLUTIONS_DIR / "06-testing", ready_path="/health/live"),
    CodeTree("07-deployment", SOLUTIONS_DIR / "07-deployment", ready_path="/health/live"),
    CodeTree("08-performance", SOLUTIONS_DIR / "08-performance", ready_path="/health/live"),
)


@dataclass(frozen=True)
class Server:
    """One uvicorn configuration. Runs that share one are served by the same process."""

    tree: CodeTree
    workers: int = 1
    cache_enabled: bool = True

    @property
    def label(self) -> str:
        cache = "" if self.cache_enabled else ", cache off"
        plural = "s" if self.workers > 1 else ""
        return f"{self.tree.label} ({self.workers} worker{plural}{cache})"


# How a run's simulated users authenticate (the runner logs them in before the run):
#   none      no token
#   shared    a small pool of tokens that every user reads with (reads consume nothing)
#   personal  one token pair per user, the same for warm-up and measurement (writes)
#   fresh     one token pair per user, new for the measurement (the journey rotates and
#             revokes its tokens, so the warm-up's are spent)
Tokens = Literal["none", "shared", "personal", "fresh"]
Group = Literal["scenario", "chapter"]


@dataclass(frozen=True)
class Run:
    name: str  # the folder under runs/ and the key in results.json
    title: str
    scenario: str  # a locustfile under harness/bench/scenarios/, without .py
    server: Server
    users: int
    tokens: Tokens
    group: Group = "scenario"
    paced: bool = False  # the users think between requests (else a closed loop)

    @property
    def locustfile(self) -> Path:
        return SCENARIOS_DIR / f"{self.scenario}.py"


FINAL_ONE_WORKER = Server(FINAL)
FINAL_NO_CACHE = Server(FINAL, cache_enabled=False)
FINAL_TWO_WORKERS = Server(FINAL, workers=2)

CEILING_RUN = "ceiling"
CACHED_READ_RUN = "cached-read"
UNCACHED_READ_RUN = "uncached-read"
JOURNEY_RUN = "journey"

# Throughput scenarios run closed-loop (no think time) with enough users to keep one worker
# busy; the journey runs the user count its target names.
THROUGHPUT_USERS = 32
LOGIN_USERS = 8
JOURNEY_USERS = 64

SCENARIO_RUNS = (
    Run(
        CEILING_RUN,
        "Bare framework ceiling: GET /ping on plain FastAPI",
        "ceiling",
        Server(CEILING),
        THROUGHPUT_USERS,
        "none",
    ),
    Run(
        CACHED_READ_RUN,
        "Cached authenticated read: GET /users/{id}, cache on",
        "read_user",
        FINAL_ONE_WORKER,
        THROUGHPUT_USERS,
        "shared",
    ),
    Run(
        UNCACHED_READ_RUN,
        "Uncached authenticated read: GET /users/{id}, cache off",
        "read_user",
        FINAL_NO_CACHE,
        THROUGHPUT_USERS,
        "shared",
    ),
    Run(
        "writes",
        "Writes: PATCH /users/me",
        "writes",
        FINAL_ONE_WORKER,
        THROUGHPUT_USERS,
        "personal",
    ),
    Run(
        "login",
        "Login: POST /auth/token (argon2-bound on purpose)",
        "login",
        FINAL_ONE_WORKER,
        LOGIN_USERS,
        "none",
    ),
    Run(
        JOURNEY_RUN,
        "Mixed user journey",
        "journey",
        FINAL_TWO_WORKERS,
        JOURNEY_USERS,
        "fresh",
        paced=True,
    ),
)

# The chapter comparison reads a user by id, as the cached-read run does: final's figure is
# that run's. A chapter without auth ignores the token; one without a cache reads PostgreSQL.
CHAPTER_RUNS = tuple(
    Run(
        f"chapter-{tree.label}",
        f"Chapter {tree.label}: GET /users/{{id}}",
        "read_user",
        Server(tree),
        THROUGHPUT_USERS,
        "shared",
        group="chapter",
    )
    for tree in CHAPTERS
)


@dataclass(frozen=True)
class Timing:
    duration_seconds: int = 30
    warmup_seconds: int = 5
    generator_processes: int = 2
    users: int | None = None  # overrides every run's user count (the smoke run)
    quiet_wait_seconds: int = 0  # before each run, wait this long at most for a quiet machine


SMOKE_TIMING = Timing(duration_seconds=3, warmup_seconds=1, generator_processes=2, users=4)


def all_runs() -> tuple[Run, ...]:
    return SCENARIO_RUNS + CHAPTER_RUNS


def select_runs(names: list[str] | None, timing: Timing) -> list[Run]:
    """The runs to do, in plan order; unknown names raise KeyError naming the known ones."""
    runs = list(all_runs())
    if names:
        known = {run.name for run in runs}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise KeyError(f"unknown run {', '.join(unknown)}; the runs are {', '.join(known)}")
        runs = [run for run in runs if run.name in names]
    if timing.users is not None:
        runs = [replace(run, users=timing.users) for run in runs]
    return runs
