"""The manifest loads into typed chapters, and a malformed one fails with its location."""

import pytest

from workshop.manifest import ManifestError, load_manifest

CHAPTER_IDS = [
    "config",
    "database",
    "cache",
    "auth",
    "errors",
    "testing",
    "deployment",
    "performance",
]


def test_the_manifest_declares_the_eight_chapters_in_order():
    manifest = load_manifest()

    assert [chapter.id for chapter in manifest.chapters] == CHAPTER_IDS
    assert [chapter.number for chapter in manifest.chapters] == [f"{n:02d}" for n in range(1, 9)]
    for chapter in manifest.chapters:
        assert chapter.title
        assert chapter.summary
        assert chapter.objectives
        assert chapter.key_points
        assert chapter.teaching_minutes > 0
        assert chapter.exercise_minutes > 0
    assert manifest.chapter("config").services == ()
    assert set(manifest.services) == {"postgres", "redis"}


def test_chapters_and_exercises_are_found_by_number_id_or_slug():
    manifest = load_manifest()

    config = manifest.chapter("01")
    assert manifest.chapter("1") is config
    assert manifest.chapter("config") is config
    assert manifest.chapter("chapters/01-config/") is config
    assert config.directory.as_posix() == "chapters/01-config"
    assert config.solution_directory.as_posix() == "solutions/01-config"
    assert config.docs_page.as_posix() == "docs/chapters/01-config.md"
    assert config.exercise("health") is config.exercise("config.health") is config.exercise("1")
    with pytest.raises(KeyError, match="there is no chapter '9'"):
        manifest.chapter("9")


def write_manifest(tmp_path, text: str):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters/workshop.toml").write_text(text)
    return tmp_path


CHAPTER = """
[[chapters]]
id = "config"
number = "01"
title = "T"
summary = "S"
services = []
teaching_minutes = 10
exercise_minutes = 20
objectives = ["o"]
key_points = ["k"]
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[chapters.exercises]]\nid = "settings"\n', "must look like 'config.name'"),
        (CHAPTER.replace('"config"', '"cache"'), "the chapter number '01' appears twice"),
        (CHAPTER.replace('"01"', '"02"'), "the chapter id 'config' appears twice"),
    ],
)
def test_a_malformed_manifest_says_what_and_where(tmp_path, extra, message):
    root = write_manifest(tmp_path, CHAPTER + extra)

    with pytest.raises(ManifestError, match=message):
        load_manifest(root)


def test_missing_keys_and_unknown_services_are_refused(tmp_path):
    root = write_manifest(tmp_path, CHAPTER.replace("services = []", 'services = ["mongo"]'))
    with pytest.raises(ManifestError, match=r"chapter #1 \(config\): unknown services"):
        load_manifest(root)

    (root / "chapters/workshop.toml").write_text(CHAPTER.replace('title = "T"\n', ""))
    with pytest.raises(ManifestError, match="`title` is missing"):
        load_manifest(root)


def test_a_write_tests_chapter_must_name_its_checker(tmp_path):
    root = write_manifest(tmp_path, CHAPTER + 'kind = "write-tests"\n')

    with pytest.raises(ManifestError, match="names its `checker` module"):
        load_manifest(root)


def test_the_readme_lists_every_chapter_as_the_manifest_does():
    readme = (load_manifest().root / "README.md").read_text(encoding="utf-8")
    names = {"postgres": "PostgreSQL", "redis": "Redis"}

    for chapter in load_manifest().chapters:
        needs = ", ".join(names[service] for service in chapter.services) or "nothing"
        row = f"| {chapter.number} | {chapter.title} | {needs} |"
        assert row in readme, f"README.md's chapter table should have the row: {row}"


def test_every_exercise_has_its_minutes_and_they_add_up_to_the_chapters():
    for chapter in load_manifest().chapters:
        for exercise in chapter.exercises:
            assert exercise.minutes, f"{exercise.id} needs `minutes = N` in chapters/workshop.toml"
        total = sum(exercise.minutes for exercise in chapter.exercises)
        assert total == chapter.exercise_minutes, (
            f"chapter {chapter.number}'s exercises take {total} minutes, but its "
            f"exercise_minutes says {chapter.exercise_minutes}: make them agree"
        )
        assert any(exercise.core for exercise in chapter.exercises), (
            f"chapter {chapter.number} has no core exercise: the one-day plan would teach it "
            "without any practice in class"
        )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("minutes = 0", "`minutes` must be a positive whole number"),
        ('core = "yes"', "`core` must be true or false"),
    ],
)
def test_exercise_minutes_and_core_are_typed(tmp_path, line, message):
    exercise = (
        '[[chapters.exercises]]\nid = "config.health"\ntitle = "t"\nfiles = []\n'
        f'tests = ["tests/test_health.py"]\nhints = ["a", "b"]\n{line}\n'
    )
    root = write_manifest(tmp_path, CHAPTER + exercise)

    with pytest.raises(ManifestError, match=f"exercise #1: {message}"):
        load_manifest(root)
