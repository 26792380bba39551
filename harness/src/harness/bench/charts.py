"""The charts of a results folder, as PNG: bars per run, CPU per component, and time series.

matplotlib draws off-screen (the Agg backend): the runner works without a display.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first

from harness.bench.cpu import COMPONENTS
from harness.bench.results import HistoryRow, RunResult

SCENARIOS_PNG = "scenarios.png"
CPU_PNG = "cpu.png"
TIMELINE_PNG = "timeline.png"
DPI = 110
COMPONENT_COLOURS = {
    "server": "#00897b",
    "generator": "#fb8c00",
    "postgres": "#3949ab",
    "redis": "#e53935",
    "runner": "#8e24aa",
    "other": "#9e9e9e",
}


def _labels(runs: list[RunResult]) -> list[str]:
    return [f"{run.name}\n{run.server}" for run in runs]


def scenario_bars(runs: list[RunResult], ceiling_rps: float | None, path: Path) -> Path:
    """Throughput (with its share of the ceiling) and p50/p95/p99 latency, one bar per run."""
    height = 1.2 + 0.75 * len(runs)
    figure, (throughput, latency) = plt.subplots(
        1, 2, figsize=(13, height), sharey=True, gridspec_kw={"width_ratios": [1.2, 1]}
    )
    positions = list(range(len(runs)))[::-1]  # first run on top
    rps = [run.rps or 0 for run in runs]
    throughput.barh(positions, rps, color="#00897b")
    for position, value in zip(positions, rps, strict=True):
        share = f"  {value:,.0f}" + (f"  ({value / ceiling_rps:.0%})" if ceiling_rps else "")
        throughput.text(value, position, share, va="center", fontsize=8)
    throughput.set_xlim(0, max(rps, default=1) * 1.35 or 1)
    throughput.set_yticks(positions, _labels(runs), fontsize=8)
    throughput.set_xlabel("requests per second (share of the bare ceiling)")
    throughput.set_title("Throughput")

    width = 0.27
    for offset, (column, colour) in enumerate(
        (("p50", "#80cbc4"), ("p95", "#26a69a"), ("p99", "#00695c"))
    ):
        values = [getattr(run.aggregate, column) or 0 for run in runs]
        shifted = [position + (1 - offset) * width for position in positions]
        latency.barh(shifted, values, height=width, color=colour, label=column)
    latency.set_xscale("log")
    latency.set_xlabel("milliseconds (log scale)")
    latency.set_title("Latency")
    latency.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def cpu_bars(runs: list[RunResult], path: Path) -> Path:
    """Where the CPU went in each run, stacked per component, against the machine's cores."""
    measured = [run for run in runs if run.cpu]
    cpus = [run.cpu for run in runs if run.cpu]
    figure, axes = plt.subplots(figsize=(11, 1.2 + 0.55 * len(measured)))
    positions = list(range(len(measured)))[::-1]
    left = [0.0] * len(measured)
    for component in COMPONENTS:
        values = [cpu["components"][component] for cpu in cpus]
        axes.barh(
            positions,
            values,
            left=left,
            color=COMPONENT_COLOURS[component],
            label=component,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    if measured:
        capacity = 100 * cpus[0]["cores"]
        axes.axvline(capacity, color="black", linestyle="--", linewidth=1)
        axes.text(capacity, positions[0] + 0.45, " all cores", fontsize=8)
    axes.set_yticks(positions, [run.name for run in measured], fontsize=8)
    axes.set_xlabel("% of one core (average over the measured window)")
    axes.set_title("CPU per component")
    axes.legend(ncol=len(COMPONENTS), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


# The latency percentiles a timeline draws, and their colours.
LATENCY_LINES: tuple[tuple[Literal["p50", "p99"], str], ...] = (
    ("p50", "#fb8c00"),
    ("p99", "#c62828"),
)


def timelines(runs: list[RunResult], histories: dict[str, list[HistoryRow]], path: Path) -> Path:
    """Per run: requests per second and p50/p99 latency over the run, second by second."""
    shown = [run for run in runs if histories.get(run.name)]
    columns = 2
    rows = max(1, math.ceil(len(shown) / columns))
    figure, grid = plt.subplots(rows, columns, figsize=(13, 2.8 * rows), squeeze=False)
    for axes, run in zip(grid.flat, shown, strict=False):
        history = histories[run.name]
        start = history[0]["time"]
        seconds = [row["time"] - start for row in history]
        axes.plot(seconds, [row["rps"] for row in history], color="#00897b", label="req/s")
        axes.set_ylabel("req/s", color="#00897b", fontsize=8)
        axes.set_ylim(bottom=0)
        latency = axes.twinx()
        for column, colour in LATENCY_LINES:
            latency.plot(
                seconds,
                [row[column] if row[column] is not None else math.nan for row in history],
                color=colour,
                label=column,
                linewidth=1,
            )
        latency.set_ylabel("ms", fontsize=8)
        latency.set_ylim(bottom=0)
        axes.set_title(f"{run.name} — {run.server}", fontsize=9)
        axes.set_xlabel("seconds", fontsize=8)
        latency.legend(loc="upper right", fontsize=7)
    for axes in list(grid.flat)[len(shown) :]:
        axes.set_visible(False)
    figure.suptitle("Throughput and latency over time (latency over a sliding 10 s window)")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
