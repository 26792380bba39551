"""The container tooling without a container: which base images a build swaps for stand-ins,
the order a compose stack starts in, and that every file names the same base images."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

from workshop.compose_stack import ComposeStack, StackError, start_order
from workshop.engine import STANDINS, Engine, qualified
from workshop.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = [
    ROOT / "final" / "Dockerfile",
    ROOT / "chapters" / "07-deployment" / "Dockerfile",
    ROOT / "solutions" / "07-deployment" / "Dockerfile",
]
COMPOSE_FILES = [
    ROOT / "docker-compose.yml",
    ROOT / "chapters" / "07-deployment" / "docker-compose.yml",
    ROOT / "solutions" / "07-deployment" / "docker-compose.yml",
]
PYTHON_IMAGE = re.compile(r"\bpython:3\.\d+[\w.-]*")


class EngineWith(Engine):
    """An engine whose local images are a given set; nothing is run."""

    def __init__(self, images: set[str]) -> None:
        super().__init__(name="podman", executable="podman", version="test")
        object.__setattr__(self, "images", images)

    def has_image(self, image: str) -> bool:
        return image in self.images


def base_image_arguments(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", path.read_text(), flags=re.MULTILINE))


def test_a_short_image_name_is_qualified_so_a_lookup_cannot_match_a_look_alike():
    assert qualified("python:3.11-slim-bookworm") == "docker.io/library/python:3.11-slim-bookworm"
    assert qualified("bitnami/redis:7") == "docker.io/bitnami/redis:7"
    assert qualified("ghcr.io/astral-sh/uv:0.13.9") == "ghcr.io/astral-sh/uv:0.13.9"
    assert qualified("localhost/users:07") == "localhost/users:07"


@pytest.mark.parametrize(
    ("local", "swapped"),
    [
        (set(STANDINS.values()), {"PYTHON_IMAGE", "UV_IMAGE"}),  # no registry: stand-ins
        (set(), set()),  # neither here: the engine pulls the official images
        ({qualified(name) for name in STANDINS} | set(STANDINS.values()), set()),  # official
    ],
)
def test_a_build_uses_stand_ins_only_where_the_official_image_is_missing(local, swapped):
    engine = EngineWith(local)

    arguments = engine.base_image_arguments(ROOT / "final" / "Dockerfile")

    assert set(arguments) == swapped
    assert all(value in STANDINS.values() for value in arguments.values())


def test_every_dockerfile_takes_the_same_base_images_as_arguments_and_each_has_a_stand_in():
    found = {path.relative_to(ROOT).as_posix(): base_image_arguments(path) for path in DOCKERFILES}

    assert len({tuple(sorted(args.items())) for args in found.values()}) == 1, found
    for path, arguments in found.items():
        assert set(arguments) == {"PYTHON_IMAGE", "UV_IMAGE"}, (path, arguments)
        assert set(arguments.values()) <= STANDINS.keys(), (path, arguments)
        stages = re.findall(r"^FROM (\S+)", (ROOT / path).read_text(), flags=re.MULTILINE)
        assert all(stage.startswith("${") for stage in stages), (
            f"{path}: every FROM names its image through an ARG, or the stand-ins cannot "
            f"replace it: {stages}"
        )


def test_every_compose_image_pulled_from_a_registry_has_a_stand_in():
    for path in COMPOSE_FILES:
        services = yaml.safe_load(path.read_text())["services"]
        pulled = {s["image"] for s in services.values() if "image" in s and "build" not in s}
        built = {s.get("image") for s in services.values() if "build" in s}
        assert pulled - built <= STANDINS.keys(), f"{path}: {pulled - built - STANDINS.keys()}"


def test_chapter_07_names_one_python_base_image_everywhere():
    (default,) = {base_image_arguments(path)["PYTHON_IMAGE"] for path in DOCKERFILES}
    manifest = load_manifest()
    (chapter,) = [c for c in manifest.chapters if c.number == "07"]
    texts = {
        "chapters/07-deployment/README.md": (ROOT / chapter.directory / "README.md").read_text(),
        "docs/chapters/07-deployment.md": (ROOT / "docs/chapters/07-deployment.md").read_text(),
        "the manifest's hints": " ".join(h for e in chapter.exercises for h in e.hints),
        **{
            path.relative_to(ROOT).as_posix(): path.read_text()
            for path in (ROOT / chapter.directory / "tests").glob("*.py")
        },
    }

    for where, text in texts.items():
        named = set(PYTHON_IMAGE.findall(text))
        assert named <= {default}, f"{where} names {named - {default}}; the Dockerfiles {default}"


def test_the_uv_stand_in_is_the_version_the_dockerfiles_name():
    spec = importlib.util.spec_from_file_location("standins", ROOT / "containers/standins.py")
    standins = importlib.util.module_from_spec(spec)
    sys.modules["standins"] = standins  # its dataclasses look their module up by name
    try:
        spec.loader.exec_module(standins)
    finally:
        del sys.modules["standins"]

    (uv_image,) = {base_image_arguments(path)["UV_IMAGE"] for path in DOCKERFILES}
    assert uv_image == f"ghcr.io/astral-sh/uv:{standins.UV_VERSION}"
    assert {standin.official for standin in standins.ALL} == STANDINS.keys()


def test_a_stack_starts_each_service_after_what_it_depends_on():
    services = {
        "app": {"depends_on": {"migrate": {"condition": "service_completed_successfully"}}},
        "migrate": {"depends_on": ["postgres"]},
        "redis": {},
        "postgres": {},
    }

    assert start_order(services) == ["postgres", "migrate", "app", "redis"]
    with pytest.raises(StackError, match="circle"):
        start_order({"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}})


def test_the_override_swaps_images_and_build_arguments_and_frees_every_port(tmp_path):
    engine = EngineWith(set(STANDINS.values()))
    stack = ComposeStack(
        engine,
        ROOT / "solutions/07-deployment/docker-compose.yml",
        project="unit",
        scratch=tmp_path,
        build_contexts={"project": ROOT},
    )

    text = stack.override.read_text()
    override = yaml.safe_load(text.replace("!override", ""))["services"]

    assert override["postgres"]["image"] == STANDINS["postgres:16-alpine"]
    assert override["redis"]["image"] == STANDINS["redis:7-alpine"]
    assert (
        override["migrate"]["build"]["args"]["PYTHON_IMAGE"]
        == STANDINS["python:3.11-slim-bookworm"]
    )
    assert override["migrate"]["build"]["additional_contexts"] == {"project": str(ROOT)}
    assert "ports: !override" in text, text
    assert override["app"]["ports"] == ["127.0.0.1::8000"]
