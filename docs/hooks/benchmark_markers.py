"""The benchmarks pages, generated from the committed baseline's `results.json`.

Every figure on the results page comes from that file (the runner writes it; this module only
reads it), so the page cannot contradict its own tables. The charts are drawn here, as SVG
sized for the page's column; the runner's own PNGs stay available, full size, under Files.

`<!-- workshop:benchmark PART -->` renders one part: overview, charts, scenarios, targets,
chapters, cpu, endpoints, failures, files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchmark_charts
import matplotlib
from benchmark_site import BASELINE_DIR, MACHINE_PAGE, REPO_ROOT, SITE_DIR, code_line, table
from chapter_markers import MissingData

RESULTS_FORMAT = 1
CHARTS_SITE_DIR = f"{SITE_DIR}/charts"
CEILING, CACHED, UNCACHED, LOGIN, JOURNEY = (
    "ceiling",
    "cached-read",
    "uncached-read",
    "login",
    "journey",
)
LATENCIES = ("p50", "p95", "p99", "max_ms")
CPU_COMPONENTS = {  # results.json's name: the column's
    "server": "server",
    "generator": "Locust",
    "postgres": "PostgreSQL",
    "redis": "Redis",
    "runner": "runner",
    "other": "other",
}


# --- reading the results ----------------------------------------------------------------------


def load_results(baseline: Path | None = None) -> dict[str, Any] | None:
    path = (baseline or BASELINE_DIR) / "results.json"
    if not path.is_file():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != RESULTS_FORMAT:
        raise MissingData(
            f"{path.relative_to(REPO_ROOT)} has format {document.get('format')!r}; the docs read "
            f"format {RESULTS_FORMAT}: update docs/hooks/benchmark_markers.py with the runner."
        )
    return document


def _runs(document: dict[str, Any], group: str | None = None) -> list[dict[str, Any]]:
    return [run for run in document["runs"] if group is None or run["group"] == group]


def _measured(run: dict[str, Any] | None) -> bool:
    return bool(run) and run["status"] == "measured"


def _by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["name"]: run for run in document["runs"]}


def server_us_per_request(run: dict[str, Any]) -> float | None:
    """The server's CPU time per answered request: its share of a core x seconds / requests."""
    requests = run["aggregate"]["requests"]
    if not _measured(run) or not requests:
        return None
    return run["cpu"]["components"]["server"] / 100 * run["seconds"] / requests * 1e6


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _share(run: dict[str, Any], ceiling: dict[str, Any] | None) -> str:
    if not (_measured(run) and _measured(ceiling)):
        return "–"
    share = run["aggregate"]["rps"] / ceiling["aggregate"]["rps"]
    return "< 1 %" if share < 0.005 else f"{share:.0%}".replace("%", " %")


def _status(run: dict[str, Any]) -> str:
    return f"{run['status']}: {run['message']}" if run["message"] else run["status"]


# --- the parts of the results page ------------------------------------------------------------


def overview(document: dict[str, Any], links: Callable[[str], str]) -> str:
    machine, timing = document["machine"], document["timing"]
    lines = [
        f"Measured {document['started_at']} on {machine['cpu_model']} "
        f"({machine['logical_cores']} cores, {machine['memory_gib']} GiB), {code_line(machine)}. "
        f"Each run warms up for {timing['warmup_seconds']} s, then is measured for "
        f"{timing['duration_seconds']} s with Locust in {timing['generator_processes']} "
        f"processes. [The machine and its load]({links(MACHINE_PAGE)}).",
        "",
    ]
    if not document["load_before"]["quiet"]:
        load = ", ".join(f"{value:.2f}" for value in document["load_before"]["load_average"])
        lines += [
            '!!! warning "The machine was not quiet"',
            "",
            f"    Before the runs its load average was {load}: other work shared the CPU, "
            "so compare the shares of the ceiling, which were measured under the same load, "
            "rather than the absolute rates.",
            "",
        ]
    if findings := _findings(document):
        lines += ["**In short**", "", *findings, ""]
    return "\n".join(lines)


def _findings(document: dict[str, Any]) -> list[str]:
    runs = _by_name(document)
    ceiling, cached, uncached = runs.get(CEILING), runs.get(CACHED), runs.get(UNCACHED)
    findings = []
    if _measured(cached) and _measured(ceiling):
        findings.append(
            f"- The finished service answers an authenticated, cached read at "
            f"{_share(cached, ceiling)} of the rate plain FastAPI answers a constant: its server "
            f"spends {_number(server_us_per_request(cached))} µs of CPU per request, against "
            f"{_number(server_us_per_request(ceiling))} µs."
        )
    if _measured(cached) and _measured(uncached):
        ratio = cached["aggregate"]["rps"] / uncached["aggregate"]["rps"]
        findings.append(
            f"- The cache makes that read {ratio:.1f}× faster (p50 "
            f"{_number(cached['aggregate']['p50'])} ms against "
            f"{_number(uncached['aggregate']['p50'])} ms)."
        )
    if _measured(login := runs.get(LOGIN)):
        findings.append(
            f"- Login runs at {_number(login['aggregate']['rps'], 1)} per second: each is one "
            "argon2 verify, slow on purpose."
        )
    if _measured(journey := runs.get(JOURNEY)):
        total = journey["aggregate"]
        findings.append(
            f"- The mixed journey, {journey['users']} users on {journey['workers']} workers: "
            f"p99 {_number(total['p99'])} ms, {total['failures']:,} failures in "
            f"{total['requests']:,} requests."
        )
    return findings


def targets(document: dict[str, Any]) -> str:
    rows = [
        [
            target["name"],
            target["threshold"],
            target["figure"] + (f" ({target['note']})" if target["note"] else ""),
            "met" if target["met"] else "**missed**",
        ]
        for target in document["targets"]
    ]
    if not rows:
        raise MissingData("the baseline's results.json lists no targets.")
    return table(["Target", "Threshold", "Measured", "Verdict"], rows)


def scenarios(document: dict[str, Any]) -> str:
    """Two narrow tables rather than one wide one: what ran and how fast, then its latency."""
    ceiling = _by_name(document).get(CEILING)
    throughput, latency = [], []
    for run in _runs(document, "scenario"):
        total = run["aggregate"]
        if not _measured(run):
            throughput.append([f"`{run['name']}`", run["title"], _status(run), "", "", ""])
            continue
        throughput.append(
            [
                f"`{run['name']}`",
                run["title"],
                f"{run['server']}, {run['users']} users",
                _number(total["rps"]),
                _share(run, ceiling),
                f"{total['failures']:,}",
            ]
        )
        latency.append(
            [
                f"`{run['name']}`",
                *(_number(total[key]) for key in ("p50", "p95", "p99")),
                run["bound"],
            ]
        )
    if not throughput:
        raise MissingData("the baseline's results.json has no scenario runs.")
    return (
        table(
            ["Run", "What", "Served by", "req/s", "Of the ceiling", "Failures"],
            throughput,
            "lllrrr",
        )
        + "\n**Latency**, in milliseconds, and what bounded each run:\n\n"
        + table(["Run", "p50", "p95", "p99", "Bounded by"], latency, "lrrrl")
    )


def chapter_rows(document: dict[str, Any], manifest) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, what the step adds, run) for each chapter's solution, then the finished service."""
    rows = []
    for run in _runs(document, "chapter"):
        number = run["name"].removeprefix("chapter-")[:2]
        chapter = next((item for item in manifest.chapters if item.number == number), None)
        adds = chapter.short_title if chapter else run["title"]
        rows.append((run["name"].removeprefix("chapter-"), adds, run))
    if rows and _measured(cached := _by_name(document).get(CACHED)):
        rows.append(("final", "The finished service (the cached-read run)", cached))
    return rows


def chapters(document: dict[str, Any], manifest, links: Callable[[str], str]) -> str:
    rows = chapter_rows(document, manifest)
    if not rows:
        raise MissingData("the baseline's results.json has no chapter runs.")
    ceiling = _by_name(document).get(CEILING)
    steps = [
        [
            f"`{label}`",
            adds,
            _number(run["aggregate"]["rps"]) if _measured(run) else _status(run),
            _share(run, ceiling),
            _number(run["aggregate"]["p50"]) if _measured(run) else "",
            _number(run["aggregate"]["p99"]) if _measured(run) else "",
        ]
        for label, adds, run in rows
    ]
    return _figure("chapters", "Requests per second, chapter by chapter", links) + table(
        ["Code", "The step", "req/s", "Of the ceiling", "p50 ms", "p99 ms"], steps, "llrrrr"
    )


def cpu(document: dict[str, Any], links: Callable[[str], str]) -> str:
    measured = [run for run in document["runs"] if _measured(run)]
    shares = [
        [
            f"`{run['name']}`",
            *(_number(run["cpu"]["components"].get(key)) for key in CPU_COMPONENTS),
        ]
        for run in measured
    ]
    costs = [
        [
            f"`{run['name']}`",
            _number(server_us_per_request(run)),
            _number(run["cpu"]["server_busiest_process"]),
            _number(run["cpu"]["machine_percent_of_all_cores"]),
            _number(run.get("busy_before_percent")),
        ]
        for run in measured
    ]
    return (
        _figure("cpu", "Where the CPU went, per run", links)
        + "Average share of one core over the measured window (100 = one core busy):\n\n"
        + table(["Run", *CPU_COMPONENTS.values()], shares, "lrrrrrr")
        + "\nWhat a request costs, and how busy the machine was:\n\n"
        + table(
            [
                "Run",
                "Server µs per request",
                "Busiest server process, % of a core",
                "Machine busy, % of all cores",
                "Busy before the run, %",
            ],
            costs,
            "lrrrr",
        )
    )


def endpoints(document: dict[str, Any]) -> str:
    """Two tables, each narrow enough for the column: the traffic, then the latency."""
    traffic, latency = [], []
    for run in document["runs"]:
        if not _measured(run):
            continue
        for endpoint in run["endpoints"]:
            name = [f"`{run['name']}`", f"`{endpoint['method']} {endpoint['name']}`"]
            traffic.append(
                [
                    *name,
                    f"{endpoint['requests']:,}",
                    f"{endpoint['failures']:,}",
                    _number(endpoint["rps"]),
                ]
            )
            latency.append([*name, *(_number(endpoint[key]) for key in LATENCIES)])
    return (
        table(["Run", "Endpoint", "Requests", "Failures", "req/s"], traffic, "llrrr")
        + "\n**Latency per endpoint**, in milliseconds:\n\n"
        + table(["Run", "Endpoint", "p50", "p95", "p99", "max"], latency, "llrrrr")
    )


def failures(document: dict[str, Any]) -> str:
    """Locust's failures (its CSV's columns), and the warm-ups that failed."""
    rows = [
        [
            f"`{run['name']}`",
            f"`{failure.get('Method', '')} {failure.get('Name', '')}`",
            failure.get("Error", "")[:160],
            failure.get("Occurrences", ""),
        ]
        for run in document["runs"]
        for failure in run.get("failures", [])
    ]
    warmups = [f"`{run['name']}`" for run in document["runs"] if run.get("warmup_failed")]
    text = (
        "No request failed in any run.\n"
        if not rows
        else table(["Run", "Endpoint", "Error", "Occurrences"], rows, "lllr")
    )
    if warmups:
        text += f"\nThe warm-up of {', '.join(warmups)} had failures (see its `locust.log`).\n"
    return text


def files(document: dict[str, Any], links: Callable[[str], str]) -> str:
    rows = []
    for run in document["runs"]:
        folder = f"{SITE_DIR}/runs/{run['name']}"
        if not (BASELINE_DIR / "runs" / run["name"]).is_dir():
            continue
        csv = " · ".join(
            f"[{label}]({links(f'{folder}/{name}')})"
            for label, name in (
                ("stats", "locust_stats.csv"),
                ("history", "locust_stats_history.csv"),
                ("failures", "locust_failures.csv"),
            )
            if (BASELINE_DIR / "runs" / run["name"] / name).is_file()
        )
        report = f"{folder}/report.html"
        rows.append(
            [
                f"`{run['name']}`",
                f"[Locust report]({links(report)})",
                csv,
                f"[CPU samples]({links(f'{folder}/cpu.csv')})",
            ]
        )
    runner_charts = sorted((BASELINE_DIR / "charts").glob("*.png"))
    charts = ", ".join(
        f"[{path.stem}]({links(f'{SITE_DIR}/charts/{path.name}')})" for path in runner_charts
    )
    text = table(["Run", "Report", "Locust CSV", "CPU"], rows)
    if charts:
        text += f"\nThe runner's own charts, full size: {charts}.\n"
    text += f"\nThe raw figures: [results.json]({links(f'{SITE_DIR}/results.json')}).\n"
    return text


# --- charts -----------------------------------------------------------------------------------

CHART_TITLES = {
    "throughput": "Requests per second, and the share of the bare ceiling",
    "latency": "Latency per run: p50, p95 and p99",
}


def _figure(name: str, title: str, links: Callable[[str], str]) -> str:
    """A chart at the column's width, linked to itself so a click opens it full size."""
    target = links(f"{CHARTS_SITE_DIR}/{name}.svg")
    return (
        f'<figure class="workshop-chart" markdown>\n\n'
        f"[![{title}]({target})]({target})\n\n"
        f"<figcaption>{title} (click for the full-size image)</figcaption>\n</figure>\n\n"
    )


def charts_part(links: Callable[[str], str]) -> str:
    return "".join(_figure(name, title, links) for name, title in CHART_TITLES.items())


def draw_charts(document: dict[str, Any], manifest) -> dict[str, str]:
    """The SVG of every chart, by its path in the site. Deterministic, so builds are stable."""
    style = {
        "svg.fonttype": "none",  # text stays text: the browser draws it, crisp and legible
        "svg.hashsalt": "workshop-docs",
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": 11,
    }
    drawings = {
        "throughput": lambda: benchmark_charts.throughput(document),
        "latency": lambda: benchmark_charts.latency(document),
        "chapters": lambda: benchmark_charts.chapters(chapter_rows(document, manifest)),
        "cpu": lambda: benchmark_charts.cpu(document, CPU_COMPONENTS),
    }
    svgs = {}
    with matplotlib.rc_context(style):
        for name, draw in drawings.items():
            figure = draw()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
            svgs[f"{CHARTS_SITE_DIR}/{name}.svg"] = buffer.getvalue()
    return svgs
