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
from harness.bench.results import Figures, RunResult

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


def _not_measured(name: str, threshold: str) -> TargetResult:
    return TargetResult(name, threshold, "not measured", None, "a run it needs did not run")


def _figures(run: RunResult | None) -> Figures | None:
    """A run's aggregate if it ran and was measured, else None."""
    return run.figures if run is not None and run.measured else None


def _share(
    name: str, run: RunResult | None, ceiling: RunResult | None, floor: float
) -> TargetResult:
    threshold = f"≥ {floor:.0%} of the ceiling"
    measured, bare = _figures(run), _figures(ceiling)
    if measured is None or bare is None:
        return _not_measured(name, threshold)
    share = measured.rps / bare.rps
    figure = f"{share:.1%} ({measured.rps:,.0f} of {bare.rps:,.0f} req/s)"
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
    with_cache, without_cache = _figures(cached), _figures(uncached)
    if with_cache is not None and without_cache is not None:
        speedup = with_cache.rps / without_cache.rps
        figure = f"{speedup:.2f}× ({with_cache.rps:,.0f} vs {without_cache.rps:,.0f} req/s)"
        results.append(TargetResult(name, threshold, figure, speedup >= CACHE_SPEEDUP))
    else:
        results.append(_not_measured(name, threshold))

    name = f"Journey p99, {JOURNEY_USERS} users on {JOURNEY_WORKERS} workers"
    threshold = f"< {JOURNEY_P99_MS:.0f} ms"
    journey_figures = _figures(journey)
    if journey is not None and journey_figures is not None:
        p99 = journey_figures.p99
        shape_ok = journey.users == JOURNEY_USERS and journey.workers == JOURNEY_WORKERS
        note = "" if shape_ok else f"ran with {journey.users} users: not the target's shape"
        met = (p99 is not None and p99 < JOURNEY_P99_MS) if shape_ok else None
        results.append(TargetResult(name, threshold, f"{p99:.0f} ms", met, note))
        failures = journey_figures.failures
        results.append(
            TargetResult(
                "Journey without failures",
                "0 failures",
                f"{failures:,} of {journey_figures.requests:,} requests",
                failures == 0 if shape_ok else None,
                note,
            )
        )
    else:
        results += [
            _not_measured(name, threshold),
            _not_measured("Journey without failures", "0 failures"),
        ]

    if not judged:
        results = [
            TargetResult(r.name, r.threshold, r.figure, None, "smoke run: speed is not judged")
            for r in results
        ]
    return results
