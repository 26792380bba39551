"""The figures of a run, read from Locust's CSV files, and `results.json`, which keeps them all.

`results.json` is what the summary, the charts and the compare mode read: a results folder
can be re-reported or compared long after its servers are gone.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from harness.bench.cpu import CpuFigures
from harness.bench.locust_run import CSV_PREFIX

RESULTS_FILE = "results.json"
FORMAT_VERSION = 1

Status = Literal["measured", "skipped", "failed"]


@dataclass(frozen=True)
class Figures:
    """One row of Locust's stats: an endpoint, or `Aggregated` for the whole run."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float | None
    p95: float | None
    p99: float | None
    average_ms: float
    max_ms: float

    @property
    def label(self) -> str:
        return f"{self.method} {self.name}".strip()


@dataclass
class RunResult:
    name: str
    title: str
    group: str  # "scenario" or "chapter"
    server: str
    workers: int
    users: int
    seconds: int
    status: Status
    message: str = ""  # why a run was skipped or failed
    aggregate: Figures | None = None
    endpoints: list[Figures] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    cpu: CpuFigures | None = None
    bound: str = ""
    warmup_failed: bool = False
    busy_before_percent: float | None = None  # the machine's CPU just before the run

    @property
    def measured(self) -> bool:
        return self.status == "measured" and self.aggregate is not None

    @property
    def figures(self) -> Figures:
        """The aggregate of a run known to be `measured` (check that first)."""
        if self.aggregate is None:
            raise ValueError(f"run {self.name} has no figures: it was {self.status}")
        return self.aggregate

    @property
    def rps(self) -> float | None:
        return self.figures.rps if self.measured else None

    @property
    def server_cpu_per_request_us(self) -> float | None:
        """Microseconds of server CPU per answered request: the cost of one request, which
        moves far less with the machine's load than the rate does."""
        if not (self.measured and self.cpu and self.figures.rps):
            return None
        return round(self.cpu["components"]["server"] / 100 / self.figures.rps * 1e6)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        data = dict(data)
        aggregate = data.pop("aggregate")
        endpoints = data.pop("endpoints")
        return cls(
            **data,
            aggregate=Figures(**aggregate) if aggregate else None,
            endpoints=[Figures(**row) for row in endpoints],
        )


# --- Locust's CSV files ----------------------------------------------------------------------


def _number(text: str | None) -> float | None:
    if text in (None, "", "N/A"):
        return None
    return float(text)


def _figures(row: dict[str, str]) -> Figures:
    return Figures(
        method=row["Type"],
        name=row["Name"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=round(float(row["Requests/s"]), 1),
        p50=_number(row["50%"]),
        p95=_number(row["95%"]),
        p99=_number(row["99%"]),
        average_ms=round(float(row["Average Response Time"]), 2),
        max_ms=round(float(row["Max Response Time"]), 1),
    )


def read_stats(run_dir: Path) -> tuple[Figures, list[Figures]]:
    """(the aggregate, one row per endpoint) from `locust_stats.csv`."""
    with (run_dir / f"{CSV_PREFIX}_stats.csv").open(newline="") as file:
        rows = [_figures(row) for row in csv.DictReader(file)]
    aggregate = next(row for row in rows if row.name == "Aggregated")
    return aggregate, [row for row in rows if row.name != "Aggregated"]


def read_failures(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / f"{CSV_PREFIX}_failures.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        return [dict(row) for row in csv.DictReader(file)]


class HistoryRow(TypedDict):
    """One second of a run's aggregated history (latencies are None before any request)."""

    time: float
    users: float
    rps: float
    failures_per_second: float
    p50: float | None
    p95: float | None
    p99: float | None


def read_history(run_dir: Path) -> list[HistoryRow]:
    """The aggregated per-second history: time, users, req/s, p50, p95, p99, failures/s."""
    path = run_dir / f"{CSV_PREFIX}_stats_history.csv"
    if not path.is_file():
        return []
    rows: list[HistoryRow] = []
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] != "Aggregated":
                continue
            rows.append(
                {
                    "time": float(row["Timestamp"]),
                    "users": float(row["User Count"]),
                    "rps": float(row["Requests/s"]),
                    "failures_per_second": float(row["Failures/s"]),
                    "p50": _number(row["50%"]),
                    "p95": _number(row["95%"]),
                    "p99": _number(row["99%"]),
                }
            )
    return rows


def steady_window(history: list[HistoryRow], users: int) -> tuple[float, float]:
    """From the first second every user ran to the last row: what the figures cover."""
    running = [row["time"] for row in history if row["users"] == users]
    if not running:
        return (0.0, 0.0)
    return running[0], history[-1]["time"]


# --- results.json ------------------------------------------------------------------------------


def write_results(output_dir: Path, document: dict[str, Any]) -> Path:
    document = {"format": FORMAT_VERSION, **document}
    path = output_dir / RESULTS_FILE
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def load_results(output_dir: Path) -> tuple[dict[str, Any], list[RunResult]]:
    """(the whole document, its runs) from a results folder."""
    path = output_dir / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: is {output_dir} a results folder?")
    document: dict[str, Any] = json.loads(path.read_text())
    return document, [RunResult.from_dict(run) for run in document["runs"]]
