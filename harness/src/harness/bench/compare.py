"""Compare mode: every figure of a results folder beside the committed baseline's.

Absolute figures move with the machine's load; the ratios to the ceiling of the same run are
printed too, because they are what carries from one run to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.bench.plan import CEILING_RUN
from harness.bench.results import RunResult, load_results

# (figure, how to read it off a measured run, True when higher is better)
FIGURES: tuple[tuple[str, Callable[[RunResult], float | None], bool], ...] = (
    ("req/s", lambda run: run.figures.rps, True),
    ("p50 ms", lambda run: run.figures.p50, False),
    ("p95 ms", lambda run: run.figures.p95, False),
    ("p99 ms", lambda run: run.figures.p99, False),
    ("failures", lambda run: run.figures.failures, False),
    ("server µs/req", lambda run: run.server_cpu_per_request_us, False),
)


def change(now: float | None, before: float | None, *, higher_is_better: bool) -> str:
    if now is None or before is None:
        return "n/a"
    if before == 0:
        return "same" if now == 0 else "new"
    delta = (now - before) / before
    if abs(delta) < 0.005:
        return "same"
    better = (delta > 0) == higher_is_better
    return f"{delta:+.1%} {'better' if better else 'worse'}"


def _share_of_ceiling(run: RunResult, runs: dict[str, RunResult]) -> float | None:
    ceiling = runs.get(CEILING_RUN)
    if not (ceiling and ceiling.measured and run.measured):
        return None
    return run.figures.rps / ceiling.figures.rps


def _format(value: float | None, figure: str) -> str:
    if value is None:
        return "–"
    if figure == "of ceiling":
        return f"{value:.1%}"
    return f"{value:,.0f}"


def comparison_rows(current: list[RunResult], baseline: list[RunResult]) -> list[list[str]]:
    now_by_name = {run.name: run for run in current}
    before_by_name = {run.name: run for run in baseline}
    rows = []
    for run in current:
        before = before_by_name.get(run.name)
        if not run.measured or before is None or not before.measured:
            why = "not in the baseline" if before is None else "not measured in one of them"
            rows.append([run.name, "", "", "", why])
            continue
        for figure, read, higher_is_better in FIGURES:
            now_value, before_value = read(run), read(before)
            rows.append(
                [
                    run.name,
                    figure,
                    _format(before_value, figure),
                    _format(now_value, figure),
                    change(now_value, before_value, higher_is_better=higher_is_better),
                ]
            )
        if run.name != CEILING_RUN:
            now_share = _share_of_ceiling(run, now_by_name)
            before_share = _share_of_ceiling(before, before_by_name)
            rows.append(
                [
                    run.name,
                    "of ceiling",
                    _format(before_share, "of ceiling"),
                    _format(now_share, "of ceiling"),
                    change(now_share, before_share, higher_is_better=True),
                ]
            )
    return rows


def render(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def compare(current_dir: Path, baseline_dir: Path) -> str:
    """The report that `python -m benchmarks compare` prints."""
    current_document, current = load_results(current_dir)
    baseline_document, baseline = load_results(baseline_dir)
    text = [
        f"{current_dir} ({current_document['started_at']}) against the baseline "
        f"{baseline_dir} ({baseline_document['started_at']})",
        "",
        render(comparison_rows(current, baseline), ["run", "figure", "baseline", "now", "change"]),
        "",
        "Targets:",
    ]
    before_targets = {target["name"]: target for target in baseline_document["targets"]}
    for target in current_document["targets"]:
        before = before_targets.get(target["name"], {"figure": "–", "verdict": "–"})
        text.append(
            f"  {target['name']}: {target['figure']} ({target['verdict']}); "
            f"baseline {before['figure']} ({before['verdict']})"
        )
    if current_document.get("smoke") or baseline_document.get("smoke"):
        text += ["", "One of these is a smoke run: its figures are not measurements."]
    return "\n".join(text)
