"""The benchmarks pages: results first, every figure from the baseline's results.json, tables
narrow enough for the column, one list of targets, and a machine page that tells the truth
about the code that ran."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_docs_build import built_site  # noqa: F401  (the fixture: one build per session)

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "docs" / "hooks"))

import benchmark_markers  # noqa: E402
import benchmark_site  # noqa: E402

RESULTS_PAGE = REPO_ROOT / "docs" / "benchmarks" / "index.md"
DOCUMENT = benchmark_markers.load_results()
MANIFEST = load_manifest(REPO_ROOT)
WIDEST_TABLE = 7  # columns: more do not fit the column beside the navigation

pytestmark = pytest.mark.skipif(DOCUMENT is None, reason="no baseline committed yet")


def _link(site_path: str) -> str:
    return benchmark_site.relative(site_path, "benchmarks/index.md")


def _parts() -> dict[str, str]:
    return {
        "overview": benchmark_markers.overview(DOCUMENT, _link),
        "scenarios": benchmark_markers.scenarios(DOCUMENT),
        "targets": benchmark_markers.targets(DOCUMENT),
        "chapters": benchmark_markers.chapters(DOCUMENT, MANIFEST, _link),
        "cpu": benchmark_markers.cpu(DOCUMENT, _link),
        "endpoints": benchmark_markers.endpoints(DOCUMENT),
        "failures": benchmark_markers.failures(DOCUMENT),
        "files": benchmark_markers.files(DOCUMENT, _link),
    }


def test_the_results_page_types_no_figure() -> None:
    """Figures come from markers; the prose may name chapters and `argon2`, not numbers."""
    prose = RESULTS_PAGE.read_text(encoding="utf-8")
    prose = re.sub(r"<!--.*?-->", "", prose)
    prose = re.sub(r"`[^`]*`", "", prose)
    prose = re.sub(r"\bchapters? \d\d\b|\(#[^)]*\)", "", prose)
    # A number standing on its own (not the 2 of argon2 or the 99 of p99).
    typed = re.findall(r".{0,30}(?<![\w.])\d[\d,.]*(?!\w).{0,30}", prose)
    assert not typed, (
        "docs/benchmarks/index.md states figures in its prose; they go stale and contradict "
        f"the generated tables. Say it without the number, or generate it: {typed}"
    )


def test_the_page_quotes_the_results_file() -> None:
    text = "\n".join(_parts().values())
    runs = {run["name"]: run for run in DOCUMENT["runs"]}
    for run in runs.values():
        if run["status"] == "measured":
            assert f"`{run['name']}`" in text
            assert f"{run['aggregate']['rps']:,.0f}" in text, f"{run['name']}'s req/s"
    ceiling, cached = runs["ceiling"], runs["cached-read"]
    share = cached["aggregate"]["rps"] / ceiling["aggregate"]["rps"]
    assert f"{share:.0%}".replace("%", " %") in _parts()["overview"], "the share of the ceiling"


def test_there_is_one_list_of_targets() -> None:
    parts = _parts()
    for target in DOCUMENT["targets"]:
        where = [name for name, text in parts.items() if target["name"] in text]
        assert where == ["targets"], f"{target['name']!r} is listed in {where}"
        assert target["threshold"] in parts["targets"]
    page = RESULTS_PAGE.read_text(encoding="utf-8")
    assert page.count("<!-- workshop:benchmark targets -->") == 1


def test_every_table_fits_the_column() -> None:
    for name, text in _parts().items():
        for header in re.findall(r"^\| .* \|\n\| [-:| ]+\|$", text, flags=re.MULTILINE):
            columns = header.splitlines()[0].count("|") - 1
            assert columns <= WIDEST_TABLE, f"the {name} table has {columns} columns: split it"


def test_the_charts_are_drawn_from_the_results() -> None:
    charts = benchmark_markers.draw_charts(DOCUMENT, MANIFEST)
    assert sorted(charts) == [
        f"benchmarks/baseline/charts/{name}.svg"
        for name in ("chapters", "cpu", "latency", "throughput")
    ]
    throughput = charts["benchmarks/baseline/charts/throughput.svg"]
    for run in DOCUMENT["runs"]:
        if run["group"] == "scenario":
            assert run["name"] in throughput, f"{run['name']} is not in the throughput chart"
    assert "<text" in throughput, "chart text must stay text (svg.fonttype none): crisp, legible"
    assert charts == benchmark_markers.draw_charts(DOCUMENT, MANIFEST), "the same bytes each build"


class _Outline(HTMLParser):
    """The page's h2 headings, images and tables, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self._h2: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "h2":
            self._h2 = []
        elif tag == "img":
            self.items.append(f"img {values.get('src')}")
        elif tag == "table":
            self.items.append("table")

    def handle_data(self, data: str) -> None:
        if self._h2 is not None:
            self._h2.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._h2 is not None:
            self.items.append("h2 " + "".join(self._h2).strip(" ¶\n"))
            self._h2 = None


def test_the_page_leads_with_charts_and_results(built_site: Path) -> None:  # noqa: F811
    html = (built_site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    outline = _Outline()
    outline.feed(html)
    first_prose = outline.items.index("h2 How to read the figures")
    charts = [item for item in outline.items if item.startswith("img")]
    assert charts, "the results page shows no chart"
    assert outline.items.index(charts[0]) < outline.items.index("table") < first_prose, (
        f"charts, then the results table, then the explanations: {outline.items[:12]}"
    )
    for chart in charts:
        source = chart.split(" ", 1)[1]
        assert (built_site / "benchmarks" / source).is_file(), f"{source} is not published"
        assert f'<a href="{source}"><img' in html, f"{source} links to its full-size image"


def test_the_runbook_has_its_own_page_without_a_second_target_list(
    built_site: Path,  # noqa: F811
) -> None:
    runbook = (built_site / "benchmarks" / "running.html").read_text(encoding="utf-8")
    assert 'id="run-them"' in runbook, "the runbook page lacks benchmarks/README.md's commands"
    assert "40 %" not in runbook, "the targets are listed once, on the results page"


# --- the machine page -------------------------------------------------------------------------


def _machine(dirty: bool) -> dict:
    return {**DOCUMENT["machine"], "git_commit": "abc1234", "git_dirty": dirty}


def test_a_clean_run_names_its_commit() -> None:
    assert benchmark_site.code_line(_machine(dirty=False)) == "commit `abc1234`"


def test_a_committed_run_is_not_called_uncommitted(monkeypatch) -> None:
    """The runner saw changes; once committed with the results, they are known."""
    answers = {"log": "def5678", "status": "", "diff": ""}
    monkeypatch.setattr(benchmark_site, "_git", lambda command, *rest: answers[command])
    line = benchmark_site.code_line(_machine(dirty=True))
    assert "uncommitted" not in line
    assert "def5678" in line, "the commit that holds the results"
    answers["diff"] = "final/app/main.py\nfinal/app/config.py"
    assert "changes to 2 files that were committed with the results in `def5678`" in (
        benchmark_site.code_line(_machine(dirty=True))
    )


def test_a_run_not_yet_committed_says_so(monkeypatch) -> None:
    answers = {"log": "def5678", "status": " M benchmarks/results/baseline/results.json"}
    monkeypatch.setattr(benchmark_site, "_git", lambda command, *rest: answers[command])
    assert "with uncommitted changes" in benchmark_site.code_line(_machine(dirty=True))


def test_the_baseline_machine_page(built_site: Path) -> None:  # noqa: F811
    page = (built_site / "benchmarks" / "baseline" / "machine.html").read_text(encoding="utf-8")
    machine = json.loads((benchmark_site.BASELINE_DIR / "results.json").read_text())["machine"]
    assert machine["git_commit"] in page
    assert "uncommitted" not in page, "the baseline is committed: its code is known"


# --- the Locust reports -----------------------------------------------------------------------


def test_the_locust_reports_favicons_resolve(built_site: Path) -> None:  # noqa: F811
    reports = benchmark_site.locust_reports()
    assert reports, "the baseline has no Locust report"
    favicons = benchmark_site.locust_favicons()
    assert favicons, "the reports link to favicons; the site must publish them"
    for site_path in favicons:
        assert (built_site / site_path).is_file(), f"{site_path} is not in the built site"
