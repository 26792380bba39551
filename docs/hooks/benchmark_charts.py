"""The benchmarks page's charts, drawn from results.json for a column about 750 px wide.

Each is one question per figure (no side-by-side panels that shrink the labels), sized so
that its text is about the page's own size when the figure fills the column.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

WIDTH_INCHES = 7.5  # about 750 px of column at the figure's natural size
ROW_INCHES = 0.42
TEAL, TEAL_LIGHT, TEAL_DARK, GREY = "#00897b", "#80cbc4", "#00574b", "#9e9e9e"
LATENCY_COLOURS = {"p50": TEAL_LIGHT, "p95": TEAL, "p99": TEAL_DARK}
CPU_COLOURS = ["#00897b", "#ff7043", "#5c6bc0", "#e53935", "#8d6e63", "#bdbdbd"]


def _measured(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [run for run in runs if run["status"] == "measured"]


def _figure(rows: int, extra_inches: float = 0.9) -> tuple[Figure, Any]:
    figure = Figure(figsize=(WIDTH_INCHES, rows * ROW_INCHES + extra_inches))
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _label(run: dict[str, Any]) -> str:
    return f"{run['name']}\n{run['server']}"


def throughput(document: dict[str, Any]) -> Figure:
    runs = _measured([run for run in document["runs"] if run["group"] == "scenario"])
    ceiling = next((run for run in runs if run["name"] == "ceiling"), None)
    figure, axes = _figure(len(runs))
    names = [_label(run) for run in runs][::-1]
    rates = [run["aggregate"]["rps"] for run in runs][::-1]
    bars = axes.barh(names, rates, color=[GREY if run is ceiling else TEAL for run in runs][::-1])
    for bar, run in zip(bars, runs[::-1], strict=True):
        text = f"{run['aggregate']['rps']:,.0f}"
        if ceiling:
            share = run["aggregate"]["rps"] / ceiling["aggregate"]["rps"]
            text += "  (< 1 %)" if share < 0.005 else f"  ({share:.0%})".replace("%", " %")
        axes.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
        )
    axes.set_xlim(0, max(rates) * 1.3)
    axes.set_xlabel("requests per second (share of the bare ceiling)")
    return figure


def latency(document: dict[str, Any]) -> Figure:
    runs = _measured([run for run in document["runs"] if run["group"] == "scenario"])[::-1]
    figure, axes = _figure(len(runs) * 1.4, extra_inches=1.1)
    height = 0.26
    for offset, (key, colour) in enumerate(LATENCY_COLOURS.items()):
        positions = [index + (1 - offset) * height for index in range(len(runs))]
        axes.barh(
            positions, [run["aggregate"][key] for run in runs], height, color=colour, label=key
        )
    axes.set_yticks(range(len(runs)), [_label(run) for run in runs])
    axes.set_xscale("log")
    # Plain numbers at 1, 2, 5, 10, 20, 50, ... ms: a reader should not need to read powers.
    axes.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("milliseconds (log scale)")
    axes.legend(loc="lower right", frameon=False, ncols=3, bbox_to_anchor=(1, 1))
    return figure


def chapters(rows: list[tuple[str, str, dict[str, Any]]]) -> Figure:
    measured = [(label, run) for label, _, run in rows if run["status"] == "measured"][::-1]
    figure, axes = _figure(len(measured))
    bars = axes.barh(
        [label for label, _ in measured],
        [run["aggregate"]["rps"] for _, run in measured],
        color=TEAL,
    )
    axes.bar_label(
        bars, labels=[f"{run['aggregate']['rps']:,.0f}" for _, run in measured], padding=4
    )
    axes.set_xlim(0, max(run["aggregate"]["rps"] for _, run in measured) * 1.2)
    axes.set_xlabel("requests per second, the same GET /users/{id}")
    return figure


def cpu(document: dict[str, Any], components: dict[str, str]) -> Figure:
    runs = _measured(document["runs"])[::-1]
    figure, axes = _figure(len(runs), extra_inches=1.2)
    left = [0.0] * len(runs)
    for (key, label), colour in zip(components.items(), CPU_COLOURS, strict=True):
        values = [run["cpu"]["components"].get(key, 0.0) for run in runs]
        axes.barh([run["name"] for run in runs], values, left=left, color=colour, label=label)
        left = [start + value for start, value in zip(left, values, strict=True)]
    axes.set_xlabel("% of one core, averaged over the measured window")
    axes.legend(
        loc="lower left",
        frameon=False,
        ncols=len(components),
        bbox_to_anchor=(0, 1),
        fontsize="small",
    )
    return figure
