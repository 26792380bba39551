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
import page_rules  # noqa: E402
import reference_markers  # noqa: E402
from chapter_markers import Links, MissingData  # noqa: E402

MANIFEST = load_manifest(REPO_ROOT)
CHAPTER = MANIFEST.chapters[0]
LINKS = Links(page_path=f"chapters/{CHAPTER.slug}.md")  # no repository address configured
LINKED = Links(page_path="index.md", repo_blob_url="https://git.example/r/blob/main")


def _load_hook():
    spec = importlib.util.spec_from_file_location("docs_workshop_hook", HOOKS / "site_hook.py")
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


def _config(repo_url: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(repo_url=repo_url, edit_uri="edit/main/docs/", extra={})


# --- chapter markers --------------------------------------------------------------------------


def test_objectives_show_every_objective_the_minutes_and_the_questions() -> None:
    text = chapter_markers.objectives(CHAPTER, LINKS, REPO_ROOT)
    for objective in CHAPTER.objectives:
        assert objective in text
    assert f"{CHAPTER.teaching_minutes} min" in text
    assert text.startswith('!!! abstract "Chapter')
    assert '!!! question "Questions to keep in mind"' in text
    for question in CHAPTER.questions:
        assert f"1. {question}" in text, f"the question {question!r} is not on the page"


def test_hints_are_folded_one_inside_the_other_in_order() -> None:
    exercise = CHAPTER.exercises[0]
    text = chapter_markers.exercises(CHAPTER, LINKS, REPO_ROOT)
    first = text.index(exercise.hints[0].splitlines()[0])
    second = text.index(exercise.hints[1].splitlines()[0])
    assert first < second
    assert '??? tip "Hint 1' in text
    assert '    ??? tip "Hint 2' in text, "the second hint must be nested in the first"


def test_each_exercise_ends_with_its_answer_folded() -> None:
    text = chapter_markers.exercises(CHAPTER, LINKS, REPO_ROOT)
    assert text.count('??? answer "Try it first: the answer"') == len(CHAPTER.exercises)
    for exercise in CHAPTER.exercises:
        for path in exercise.files:
            solution = f"solutions/{CHAPTER.slug}/{path}"
            assert f'--8<-- "{solution}"' in text, f"{solution} is not in its exercise's answer"
    assert "https://" not in text, "with no repository address, files are named, not linked"
    problems = page_rules.unfolded_answers(text, int(CHAPTER.number))
    assert not problems, [str(problem) for problem in problems]


def test_an_answer_shows_the_change_from_the_starter(tmp_path: Path) -> None:
    chapter = dataclasses.replace(
        CHAPTER,
        exercises=(dataclasses.replace(CHAPTER.exercises[0], files=("app/thing.py",)),),
    )
    for tree, body in (
        (chapter.directory, "x = 1  # TODO\n"),
        (chapter.solution_directory, "x = 2\n"),
    ):
        (tmp_path / tree / "app").mkdir(parents=True)
        (tmp_path / tree / "app" / "thing.py").write_text(body)
    text = chapter_markers.answer_block(tmp_path, chapter, chapter.exercises[0])
    assert "-x = 1  # TODO" in text, "the answer's diff is missing the starter's line"
    assert "+x = 2" in text, "the answer's diff is missing the solution's line"
    assert '??? note "The whole file"' in text


def test_files_are_linked_only_when_the_repository_is_configured() -> None:
    assert LINKS.repo_file("final/app/main.py") == "`final/app/main.py`"
    assert LINKED.repo_file("final/app/main.py") == (
        "[`final/app/main.py`](https://git.example/r/blob/main/final/app/main.py)"
    )


def test_getting_the_code_uses_the_configured_address_or_none() -> None:
    assert "git clone https://git.example/o/workshop.git\ncd workshop" in (
        reference_markers.get_the_code("https://git.example/o/workshop.git")
    )
    unset = reference_markers.get_the_code(None)
    assert "git clone ADDRESS" in unset
    assert "https://" not in unset, "an unset address must not be guessed"


def test_check_names_the_chapters_commands() -> None:
    text = chapter_markers.check(CHAPTER, LINKS, REPO_ROOT)
    assert f"uv run workshop check {CHAPTER.number}" in text
    assert f"uv run workshop hint {CHAPTER.number}" in text


@pytest.mark.parametrize(
    ("marker", "field"),
    [
        ("objectives", "objectives"),
        ("objectives", "questions"),
        ("exercises", "exercises"),
        ("key-points", "key_points"),
    ],
)
def test_a_marker_with_missing_data_fails(marker: str, field: str) -> None:
    empty = dataclasses.replace(CHAPTER, **{field: ()})
    with pytest.raises(MissingData, match=field):
        chapter_markers.CHAPTER_MARKERS[marker](empty, LINKS, REPO_ROOT)


def test_an_exercise_with_one_hint_fails() -> None:
    exercise = dataclasses.replace(CHAPTER.exercises[0], hints=("only one",))
    chapter = dataclasses.replace(CHAPTER, exercises=(exercise,))
    with pytest.raises(MissingData, match="at least two"):
        chapter_markers.exercises(chapter, LINKS, REPO_ROOT)


def test_every_chapter_has_questions() -> None:
    missing = [chapter.slug for chapter in MANIFEST.chapters if len(chapter.questions) < 3]
    assert not missing, (
        f"chapters {missing} need at least three framing questions (`questions` in "
        "chapters/workshop.toml): the chapter page asks them before it teaches."
    )


# --- the hook's marker handling ---------------------------------------------------------------


def test_an_unfolded_answer_stops_the_build(hook) -> None:
    page = '# Title\n\n```python\n--8<-- "solutions/01-config/app/main.py"\n```\n'
    with pytest.raises(Exception, match="collapsed block"):
        hook.on_page_markdown(page, _page(f"chapters/{CHAPTER.slug}.md"), _config(), None)


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
    config = _config()
    config.nav = [{"Home": "index.md"}, {"Chapters": ["chapters/index.md"]}]
    hook.on_config(config)
    hook.on_config(config)  # `mkdocs serve` may build the same config again
    section = config.nav[1]["Chapters"]
    assert section[0] == "chapters/index.md"
    assert [next(iter(entry.values())) for entry in section[1:]] == [
        f"chapters/{chapter.slug}.md" for chapter in MANIFEST.chapters
    ]


def test_the_configuration_guesses_no_address(hook) -> None:
    config = _config()
    config.nav = [{"Chapters": []}]
    config.extra = {"polyfills": ["https://unpkg.com/iframe-worker/shim"]}
    hook.on_config(config)
    assert config.edit_uri is None, "without repo_url there is nothing to edit on"
    assert config.extra["polyfills"] == ["assets/vendor/iframe-worker/shim.js"], (
        "the offline plugin's shim comes from the site, not from a CDN"
    )


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


def test_a_module_docstring_is_quoted_with_its_link() -> None:
    text = reference_markers.module_docstring("workshop/manifest.py", LINKED)
    assert text.startswith("> ")
    assert "(https://git.example/r/blob/main/workshop/manifest.py)" in text
    assert "https://" not in reference_markers.module_docstring("workshop/manifest.py", LINKS)
    with pytest.raises(MissingData):
        reference_markers.module_docstring("no/such/module.py", LINKS)


def test_an_answer_names_a_solution_file_that_is_missing(tmp_path: Path) -> None:
    """The contract reports a stale manifest; the page says so instead of failing the site."""
    exercise = dataclasses.replace(CHAPTER.exercises[0], files=("app/gone.py",))
    text = chapter_markers.answer_block(tmp_path, CHAPTER, exercise)
    assert f"`solutions/{CHAPTER.slug}/app/gone.py` is not in the repository" in text


def test_no_hook_module_hides_a_package_of_the_course():
    """The docs tests put docs/hooks on sys.path, and processes started later inherit it: a
    hook module named like a package (`workshop.py` once) made the checker's spawned runs
    import the hook instead ("'workshop' is not a package")."""
    packages = {"workshop", "app", "localservices", "harness", "final", "tests"}
    hiding = sorted(path.name for path in HOOKS.glob("*.py") if path.stem in packages)

    assert not hiding, f"rename {hiding}: on sys.path they hide the packages of the same name"
