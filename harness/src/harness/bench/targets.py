"""The targets the finished service must meet on this machine, checked on every full run.

Throughput targets are ratios to the bare framework ceiling measured minutes apart in the
same invocation: absolute requests per second move with the machine's load, ratios much less.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.bench.plan import (
    CACHED_READ_RUN,
    CEILING_RUN,
    JOURNEY_RUN,
    JOURNEY_USERS,
    UNCACHED_READ_RUN,
)
from harness.bench.results import RunResult

CACHED_SHARE_OF_CEILING = 0.40
UNCACHED_SHARE_OF_CEILING = 0.12
CACHE_SPEEDUP = 3.0
JOURNEY_P99_MS = 100.0
JOURNEY_WORKERS = 2


@dataclass(frozen=True)
class TargetResult:
    name: str
    threshold: str
    figure: str
    met: bool | None  # None: not measured, or measured in a shape the target does not judge
    note: str = ""

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "not judged"}[self.met]

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "verdict": self.verdict}


def _missing(name: str, threshold: str, *runs: RunResult | None) -> TargetResult | None:
    absent = [run for run in runs if run is None or not run.measured]
    if not absent:
        return None
    return TargetResult(name, threshold, "not measured", None, "a run it needs did not run")


def _share(name: str, run: RunResult | None, ceiling: RunResult | None, floor: float):
    threshold = f"≥ {floor:.0%} of the ceiling"
    if missing := _missing(name, threshold, run, ceiling):
        return missing
    share = run.rps / ceiling.rps
    figure = f"{share:.1%} ({run.rps:,.0f} of {ceiling.rps:,.0f} req/s)"
    return TargetResult(name, threshold, figure, share >= floor)


def evaluate(runs: list[RunResult], *, judged: bool = True) -> list[TargetResult]:
    """Every target's figure; `judged=False` (a smoke run) reports them without verdicts."""
    by_name = {run.name: run for run in runs}
    ceiling = by_name.get(CEILING_RUN)
    cached = by_name.get(CACHED_READ_RUN)
    uncached = by_name.get(UNCACHED_READ_RUN)
    journey = by_name.get(JOURNEY_RUN)

    results = [
        _share(
            "Cached authenticated read vs the bare ceiling (1 worker)",
            cached,
            ceiling,
            CACHED_SHARE_OF_CEILING,
        ),
        _share(
            "Uncached read vs the bare ceiling (1 worker)",
            uncached,
            ceiling,
            UNCACHED_SHARE_OF_CEILING,
        ),
    ]

    name, threshold = "Cache on vs cache off (same read)", f"≥ {CACHE_SPEEDUP:.0f}×"
    if not (missing := _missing(name, threshold, cached, uncached)):
        speedup = cached.rps / uncached.rps
        figure = f"{speedup:.2f}× ({cached.rps:,.0f} vs {uncached.rps:,.0f} req/s)"
        results.append(TargetResult(name, threshold, figure, speedup >= CACHE_SPEEDUP))
    else:
        results.append(missing)

    name = f"Journey p99, {JOURNEY_USERS} users on {JOURNEY_WORKERS} workers"
    threshold = f"< {JOURNEY_P99_MS:.0f} ms"
    if not (missing := _missing(name, threshold, journey)):
        p99 = journey.aggregate.p99
        shape_ok = journey.users == JOURNEY_USERS and journey.workers == JOURNEY_WORKERS
        note = "" if shape_ok else f"ran with {journey.users} users: not the target's shape"
        met = (p99 is not None and p99 < JOURNEY_P99_MS) if shape_ok else None
        results.append(TargetResult(name, threshold, f"{p99:.0f} ms", met, note))
        failures = journey.aggregate.failures
        results.append(
            TargetResult(
                "Journey without failures",
                "0 failures",
                f"{failures:,} of {journey.aggregate.requests:,} requests",
                failures == 0 if shape_ok else None,
                note,
            )
        )
    else:
        results += [missing, _missing("Journey without failures", "0 failures", journey)]

    if not judged:
        results = [
            TargetResult(r.name, r.threshold, r.figure, None, "smoke run: speed is not judged")
            for r in results
        ]
    return results
