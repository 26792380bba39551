"""The docs hook (docs/hooks/): markers render from the manifest and the code, and a marker
whose data is missing stops the build instead of rendering an empty section."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from workshop.manifest import load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
HOOKS = REPO_ROOT / "docs" / "hooks"
sys.path.insert(0, str(HOOKS))  # the hook's helper modules import each other by name

import chapter_markers  # noqa: E402
import reference_markers  # noqa: E402
from chapter_markers import Links, MissingData  # noqa: E402

MANIFEST = load_manifest(REPO_ROOT)
CHAPTER = MANIFEST.chapters[0]
LINKS = Links(
    page_path=f"chapters/{CHAPTER.slug}.md", repo_blob_url="https://git.example/r/blob/main"
)


def _load_hook():
    spec = importlib.util.spec_from_file_location("docs_workshop_hook", HOOKS / "workshop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(src_uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), edit_url="x")


@pytest.fixture
def hook():
    module = _load_hook()
    module._manifest = MANIFEST
    return module


def _config() -> SimpleNamespace:
    return SimpleNamespace(repo_url="https://git.example/r", edit_uri="edit/main/docs/")


# --- chapter markers --------------------------------------------------------------------------


def test_objectives_show_every_objective_and_the_minutes() -> None:
    text = chapter_markers.objectives(CHAPTER, LINKS)
    for objective in CHAPTER.objectives:
        assert objective in text
    assert f"{CHAPTER.teaching_minutes} min" in text
    assert text.startswith('!!! abstract "Chapter')


def test_hints_are_folded_one_inside_the_other_in_order() -> None:
    exercise = CHAPTER.exercises[0]
    text = chapter_markers.exercises(CHAPTER, LINKS)
    first = text.index(exercise.hints[0].splitlines()[0])
    second = text.index(exercise.hints[1].splitlines()[0])
    assert first < second
    assert '??? tip "Hint 1' in text
    assert '    ??? tip "Hint 2' in text, "the second hint must be nested in the first"
    solution = f"solutions/{CHAPTER.slug}/{exercise.files[0]}"
    assert f"[`{solution}`](https://git.example/r/blob/main/{solution})" in text


def test_check_names_the_chapters_commands() -> None:
    text = chapter_markers.check(CHAPTER, LINKS)
    assert f"uv run workshop check {CHAPTER.number}" in text
    assert f"uv run workshop hint {CHAPTER.number}" in text


@pytest.mark.parametrize(
    ("marker", "field"),
    [
        ("objectives", "objectives"),
        ("exercises", "exercises"),
        ("key-points", "key_points"),
    ],
)
def test_a_marker_with_missing_data_fails(marker: str, field: str) -> None:
    empty = dataclasses.replace(CHAPTER, **{field: ()})
    with pytest.raises(MissingData, match=field):
        chapter_markers.CHAPTER_MARKERS[marker](empty, LINKS)


def test_an_exercise_with_one_hint_fails() -> None:
    exercise = dataclasses.replace(CHAPTER.exercises[0], hints=("only one",))
    chapter = dataclasses.replace(CHAPTER, exercises=(exercise,))
    with pytest.raises(MissingData, match="at least two"):
        chapter_markers.exercises(chapter, LINKS)


# --- the hook's marker handling ---------------------------------------------------------------


def test_markers_on_a_chapter_page_are_replaced(hook) -> None:
    markdown = "# Title\n\n<!-- workshop:objectives -->\n\ntext\n\n<!-- workshop:key-points -->\n"
    result = hook.on_page_markdown(markdown, _page(f"chapters/{CHAPTER.slug}.md"), _config(), None)
    assert "<!--" not in result
    assert CHAPTER.key_points[0] in result


def test_a_chapter_marker_outside_a_chapter_page_fails(hook) -> None:
    with pytest.raises(MissingData, match="chapter page"):
        hook.on_page_markdown("<!-- workshop:exercises -->\n", _page("index.md"), _config(), None)


def test_an_unknown_marker_fails(hook) -> None:
    with pytest.raises(MissingData, match="unknown marker"):
        hook.on_page_markdown("<!-- workshop:objetives -->\n", _page("index.md"), _config(), None)


def test_a_marker_inside_a_line_fails(hook) -> None:
    with pytest.raises(Exception, match="alone on its line"):
        hook.on_page_markdown(
            "See <!-- workshop:settings --> here\n", _page("index.md"), _config(), None
        )


def test_the_navigation_lists_the_manifest_chapters(hook) -> None:
    config = SimpleNamespace(nav=[{"Home": "index.md"}, {"Chapters": ["chapters/index.md"]}])
    hook.on_config(config)
    hook.on_config(config)  # `mkdocs serve` may build the same config again
    section = config.nav[1]["Chapters"]
    assert section[0] == "chapters/index.md"
    assert [next(iter(entry.values())) for entry in section[1:]] == [
        f"chapters/{chapter.slug}.md" for chapter in MANIFEST.chapters
    ]


# --- generated from the code ------------------------------------------------------------------


def test_the_settings_table_has_every_setting_and_its_env_var() -> None:
    settings_class = reference_markers.import_final("app.config").Settings
    table = reference_markers.settings_table()
    for name in settings_class.model_fields:
        assert f"| `{name}` | `{name.upper()}` |" in table, f"{name} is missing from the table"
    assert "change-me" not in table, "the table must not print the secret's value"


def test_the_endpoints_table_lists_the_articles_endpoint_and_metrics() -> None:
    table = reference_markers.endpoints_table()
    assert "| `POST` | `/users` |" in table
    assert "201" in table.split("| `POST` | `/users` |")[1].splitlines()[0]
    assert "| `GET` | `/metrics` |" in table


def test_both_schedules_render_every_chapter() -> None:
    for days in (1, 2):
        table = reference_markers.schedule_table(MANIFEST, days, LINKS)
        for chapter in MANIFEST.chapters:
            assert f"({chapter.slug}.md)" in table, f"{chapter.slug} missing from {days}-day plan"


def test_benchmark_results_relink_the_baseline_files(tmp_path, monkeypatch) -> None:
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "summary.md").write_text("# Run\n\n![chart](charts/rps.png)\n")
    (baseline / "charts").mkdir()
    (baseline / "charts" / "rps.png").write_bytes(b"png")
    monkeypatch.setattr(reference_markers, "BASELINE_DIR", baseline)
    text = reference_markers.benchmark_results("benchmarks.md")
    assert "![chart](benchmarks/baseline/charts/rps.png)" in text
    assert text.startswith("## Run"), "the summary's title is demoted under the page's"
    assert list(reference_markers.baseline_files()) == ["benchmarks/baseline/charts/rps.png"]


def test_a_module_docstring_is_quoted_with_its_link() -> None:
    text = reference_markers.module_docstring("workshop/manifest.py", LINKS)
    assert text.startswith("> ")
    assert "(https://git.example/r/blob/main/workshop/manifest.py)" in text
    with pytest.raises(MissingData):
        reference_markers.module_docstring("no/such/module.py", LINKS)
