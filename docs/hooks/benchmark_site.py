"""What the site publishes beside the benchmarks' results page: the baseline's files as they
are (the runs' CSV, logs and Locust reports, with the favicons those reports link to), and a
page about the machine and the code that ran, generated from results.json.
"""

from __future__ import annotations

import importlib.util
import posixpath
import re
import subprocess
from pathlib import Path
from typing import Any

from chapter_markers import MissingData

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = REPO_ROOT / "benchmarks" / "results" / "baseline"
# Where the site publishes the baseline, inside docs/, and the page generated for it.
SITE_DIR = "benchmarks/baseline"
MACHINE_PAGE = f"{SITE_DIR}/machine.md"
# The runner's own Markdown: the site renders the same facts from results.json instead.
RUNNER_PAGES = ("summary.md", "machine.md")


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A Markdown table; `align` holds one letter per column, `r` for numbers."""
    rule = ["---:" if kind == "r" else "---" for kind in align.ljust(len(header), "l")]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- the machine page -------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def code_line(machine: dict[str, Any]) -> str:
    """Which code ran: the commit, and what "dirty" meant once the results were committed.

    The runner notes a working tree that differs from its commit. When the results were then
    committed, the changes that mattered are known: if they were only the baseline's own files
    (the previous results being replaced), the code that ran is exactly the commit's.
    """
    commit = machine["git_commit"]
    if not machine.get("git_dirty"):
        return f"commit `{commit}`"
    baseline = BASELINE_DIR.relative_to(REPO_ROOT).as_posix()
    results = f"{baseline}/results.json"
    committed_in = _git("log", "-1", "--format=%h", "--", results)
    uncommitted = _git("status", "--porcelain", "--", results)
    if not committed_in or uncommitted is None or uncommitted:
        if committed_in is None and uncommitted is None:  # no git here: say what is known
            return f"commit `{commit}`, with changes of the working tree the run noted"
        return f"commit `{commit}` with uncommitted changes"
    changed = _git("diff", "--name-only", commit, committed_in, "--", ".", f":!{baseline}")
    if changed is None:
        return f"commit `{commit}`, with changes committed with the results in `{committed_in}`"
    if not changed:
        return f"commit `{commit}` (the results were committed in `{committed_in}`)"
    count = len(changed.splitlines())
    return (
        f"commit `{commit}` with changes to {count} file{'s' if count > 1 else ''} that were "
        f"committed with the results in `{committed_in}`"
    )


def machine_page(document: dict[str, Any]) -> str:
    machine = document["machine"]
    servers = machine.get("servers", {})
    lines = [
        "# The machine of the baseline",
        "",
        f"- CPU: {machine['cpu_model']}, {machine['logical_cores']} logical cores "
        f"({machine['physical_cores']} physical)",
        f"- Memory: {machine['memory_gib']} GiB",
        f"- OS: {machine['os']}; Python {machine['python']}",
        f"- Servers: PostgreSQL {servers.get('postgresql', '–')}, "
        f"Redis {servers.get('redis', '–')}",
        f"- {machine['services']}",
        f"- Code: {code_line(machine)}",
        "",
        "## Load",
        "",
    ]
    rows = []
    for label, snapshot in (("before the runs", "load_before"), ("after the runs", "load_after")):
        load = document[snapshot]
        verdict = "quiet" if load["quiet"] else "busy"
        if snapshot == "load_after":
            verdict = "(holds the runs' own load: load averages lag)"
        rows.append(
            [
                f"{label} ({load['taken_at']})",
                ", ".join(f"{value:.2f}" for value in load["load_average"]),
                f"{load['cpu_busy_percent']:.0f} %",
                verdict,
            ]
        )
    lines.append(table(["When", "Load average (1, 5, 15 min)", "CPU busy", "Verdict"], rows))
    busiest = document["load_before"].get("busiest_processes") or []
    lines += ["Busiest processes before the runs:", ""]
    lines += [f"- {_process(process)}" for process in busiest] or ["- none"]
    packages = [[f"`{name}`", version] for name, version in machine["packages"].items()]
    lines += ["", "## Versions", "", table(["Package", "Version"], packages)]
    return "\n".join(lines)


def _process(process: Any) -> str:
    if isinstance(process, dict):
        return ", ".join(f"{key}: {value}" for key, value in process.items())
    return str(process)


# --- published files --------------------------------------------------------------------------


def published_files() -> dict[str, Path]:
    """Every file of the baseline the site publishes as it is, by its path inside docs/."""
    if not BASELINE_DIR.is_dir():
        return {}
    return {
        f"{SITE_DIR}/{path.relative_to(BASELINE_DIR).as_posix()}": path
        for path in sorted(BASELINE_DIR.rglob("*"))
        if path.is_file()
        and path.relative_to(BASELINE_DIR).as_posix() not in RUNNER_PAGES
        and path.name != "report.html"
    }


def locust_reports() -> dict[str, Path]:
    """The runs' Locust reports, by their path inside docs/ (published with their favicons)."""
    if not BASELINE_DIR.is_dir():
        return {}
    return {
        f"{SITE_DIR}/{path.relative_to(BASELINE_DIR).as_posix()}": path
        for path in sorted(BASELINE_DIR.glob("runs/*/report.html"))
    }


FAVICON_LINK = re.compile(r'<link rel="(?:shortcut )?icon" href="([^"]+)"')


def _locust_assets() -> Path:
    """The folder of Locust's web UI assets, found without importing Locust (it patches gevent)."""
    spec = importlib.util.find_spec("locust")
    if spec is None or not spec.origin:
        raise MissingData("the Locust reports' favicons come from Locust: `uv sync` installs it.")
    return Path(spec.origin).parent / "webui" / "dist" / "assets"


def locust_favicons() -> dict[str, Path]:
    """The favicons the Locust reports link to, by their path in the site, from Locust itself."""
    needed: dict[str, Path] = {}
    for site_path, report in locust_reports().items():
        head = report.read_text(encoding="utf-8", errors="replace")[:4000]
        for href in FAVICON_LINK.findall(head):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(site_path), href))
            source = _locust_assets() / posixpath.basename(href)
            if not source.is_file():
                raise MissingData(f"{report.name} links to a favicon Locust does not ship: {href}")
            needed[target] = source
    return needed


def relative(site_path: str, page_path: str) -> str:
    return posixpath.relpath(site_path, posixpath.dirname(page_path) or ".")
