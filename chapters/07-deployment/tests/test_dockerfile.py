"""Exercise deployment.dockerfile: a small multi-stage image, non-root, with a health check."""

import pytest
from built_image import build_image, engine_or_note, run_detached
from deploy_files import (
    copy_paths,
    env_values,
    is_made,
    made_paths,
    read_dockerfile,
    run_tool,
    uv_environment,
)

pytestmark = pytest.mark.exercise("deployment.dockerfile")

WHERE = "Edit the Dockerfile (exercise deployment.dockerfile)."
SHIPPED = {"app", "migrations", "alembic.ini"}  # what the service needs at run time
BUILD_TOOLS = ("uv ", "uv\n", "/uv", "pip install", "apt-get install", "gcc", "build-essential")


def final_stage():
    stages = read_dockerfile()
    assert stages, f"The Dockerfile has no FROM. {WHERE}"
    return stages, stages[-1]


def build_stages(stages):
    """Stages with instructions of their own (`FROM ${UV_IMAGE} AS uv` only names an image)."""
    return [stage for stage in stages[:-1] if stage.builds]


def test_the_image_is_built_in_stages_and_hadolint_agrees():
    stages, final = final_stage()

    building = [*build_stages(stages), final]
    assert len(building) >= 2, (
        f"The Dockerfile builds in {len(building)} stage(s). Make the virtualenv in a stage of "
        f"its own (`FROM ${{PYTHON_IMAGE}} AS builder`) and copy it into a clean final stage: "
        f"uv, its cache and the build's leftovers then never reach the image you ship. {WHERE}"
    )
    earlier_names = {stage.name for stage in stages[:-1] if stage.name}
    assert final.base not in earlier_names, (
        f"The final stage starts FROM {final.base}, an earlier stage, so it inherits "
        f"everything that stage installed. Start it from a clean base image. {WHERE}"
    )
    # DL3025 (a shell-form CMD) belongs to the next exercise, deployment.server.
    result = run_tool("hadolint", "--no-color", "--ignore", "DL3025", "Dockerfile")
    assert result.returncode == 0, (
        f"hadolint, the Dockerfile linter, finds problems:\n{result.stdout}{result.stderr}"
        f"Each line names a rule that https://github.com/hadolint/hadolint/wiki/<rule> "
        f"explains. {WHERE}"
    )


def test_the_final_stage_carries_only_what_runs():
    stages, final = final_stage()
    build_names = {stage.name for stage in build_stages(stages) if stage.name}

    copied: set[str] = set()
    from_stages: list[str] = []
    venv_stages: set[str] = set()
    venv_bins: set[str] = set()
    for instruction in final.all("COPY") + final.all("ADD"):
        source_stage, paths, destination = copy_paths(instruction)
        if source_stage in build_names:
            from_stages += paths
            venv_stages.add(source_stage)
            venv_bins.add(destination.rstrip("/") + "/bin")
        elif source_stage is None:
            copied |= {path.rstrip("/").removeprefix("./") for path in paths}
        else:
            pytest.fail(
                f"Line {instruction.line} copies from the image {source_stage} into the final "
                f"stage: only the virtualenv from your build stage belongs there. {WHERE}"
            )
    assert copied == SHIPPED, (
        f"The final stage should copy exactly {sorted(SHIPPED)} from the build context; it "
        f"copies {sorted(copied)}. {WHERE}"
    )
    only_the_venv = bool(from_stages) and all("venv" in path for path in from_stages)
    assert only_the_venv, (
        f"The final stage should copy the virtualenv (for instance /opt/venv) from the build "
        f"stage, and nothing else; it copies {from_stages or 'nothing'} from it. {WHERE}"
    )
    by_name = {stage.name: stage for stage in stages if stage.name}
    for name in venv_stages:
        base = by_name[name]
        while base.base in by_name:  # a stage built FROM another stage: its image is the first's
            base = by_name[base.base]
        assert base.image == final.image, (
            f"The virtualenv is built on {base.image} but runs on {final.image}: a virtualenv "
            f"only works with the Python that made it (its bin/python is a link to it). Use "
            f"the same base image for both stages. {WHERE}"
        )
    path_setting = env_values(final).get("PATH", "")
    assert any(venv_bin in path_setting for venv_bin in venv_bins), (
        f"The final stage's PATH ({path_setting or 'unset'}) should start with the "
        f"virtualenv's bin directory ({sorted(venv_bins)}), or the container cannot find "
        f'uvicorn and alembic: ENV PATH="/opt/venv/bin:$PATH". {WHERE}'
    )
    for instruction in final.all("RUN"):
        text = instruction.arguments + "\n"
        found = [tool.strip() for tool in BUILD_TOOLS if tool in text]
        assert not found, (
            f"Line {instruction.line} of the final stage uses {found}: building belongs in "
            f"the build stage, so the image you run holds no package manager or compiler. "
            f"{WHERE}"
        )


def test_what_the_final_stage_copies_from_the_build_stage_is_made_there():
    stages, final = final_stage()
    by_name = {stage.name: stage for stage in build_stages(stages) if stage.name}

    copies = [
        (instruction, source_stage, paths)
        for instruction in final.all("COPY") + final.all("ADD")
        for source_stage, paths, _ in [copy_paths(instruction)]
        if source_stage in by_name
    ]
    assert copies, (
        f"The final stage copies nothing from a build stage yet: make the virtualenv in a "
        f"build stage and `COPY --from=<that stage>` it into the final one. {WHERE}"
    )
    for instruction, source_stage, paths in copies:
        made = made_paths(by_name[source_stage], stages)
        venv = uv_environment(by_name[source_stage])
        where_uv_puts_it = (
            f"its `uv sync` puts the virtualenv in {venv} (UV_PROJECT_ENVIRONMENT, or .venv "
            f"under the WORKDIR when that is unset)"
            if venv
            else "it runs no `uv sync`"
        )
        for path in paths:
            assert is_made(path, made), (
                f"Line {instruction.line} copies {path} from stage {source_stage}, which never "
                f"makes it: a real build stops there ({path}: not found). In {source_stage}, "
                f"{where_uv_puts_it}. Copy what the stage made, or make it where you copy it "
                f"from. {WHERE}"
            )


def test_the_final_stage_runs_as_a_non_root_user():
    _, final = final_stage()

    users = final.all("USER")
    assert users, (
        "The final stage has no USER, so the service runs as root: a hole in the app becomes "
        "root in the container. Create a system user with a fixed id (groupadd/useradd "
        "--system --uid 10001) and switch to it by number: USER 10001:10001 (a name is "
        f"something Kubernetes' runAsNonRoot cannot verify, and hadolint's DL3066 says so). {WHERE}"
    )
    user = users[-1]
    name = user.arguments.split(":")[0]
    assert name not in {"root", "0"}, f"USER {user.arguments} is still root. {WHERE}"
    last_build_step = max(i.line for i in final.instructions if i.keyword in {"COPY", "RUN"})
    assert user.line > last_build_step, (
        f"USER (line {user.line}) should come after the last COPY/RUN (line {last_build_step}): "
        f"files are installed as root, so the service can run them but not change them. {WHERE}"
    )


def test_the_image_checks_its_own_liveness():
    _, final = final_stage()

    checks = final.all("HEALTHCHECK")
    assert checks, (
        "The final stage has no HEALTHCHECK: Docker cannot tell a hung service from a healthy "
        f"one. Add one that calls /health/live. {WHERE}"
    )
    check = checks[-1].arguments
    assert "/health/live" in check, (
        f"The HEALTHCHECK should call /health/live (liveness: is the process serving?); it "
        f"runs {check!r}. {WHERE}"
    )
    assert not {"curl", "wget"} & set(check.replace('"', " ").split()), (
        "python:3.11-slim-bookworm has neither curl nor wget: the check would fail in the "
        "container. "
        "Use the Python that is there: `python -c` with urllib.request opening "
        f"http://127.0.0.1:8000/health/live, with a timeout shorter than the check's. {WHERE}"
    )


def test_the_built_image_runs_healthy_as_its_non_root_user(settings, workshop_note):
    _, final = final_stage()
    assert all(final.all(keyword) for keyword in ("USER", "HEALTHCHECK")), (
        f"Finish the checks above first (a USER and a HEALTHCHECK in the final stage): then, "
        f"where Docker or Podman is at hand, the image is built and run. {WHERE}"
    )
    engine = engine_or_note(workshop_note)
    if engine is None:
        return  # the report says the image was not built; the checks above stand for it

    image = build_image(engine)
    container = run_detached(engine, image, settings)
    try:
        status = engine.wait_healthy(container, timeout=120)
        check_says = engine.last_health_check(container) if status != "healthy" else ""
        uid = engine.run("exec", container, "id", "-u", check=False).stdout.strip()
        gid = engine.run("exec", container, "id", "-g", check=False).stdout.strip()
        logs = engine.logs(container)
    finally:
        engine.remove(container)

    assert status == "healthy", (
        f"The container's HEALTHCHECK reports {status!r}"
        f"{' (the image has none)' if status == 'none' else ''}"
        f"{f'; run once more, it says: {check_says}' if check_says else ''}. {WHERE}\n"
        f"The service's last lines:\n{logs[-1200:]}"
    )
    assert uid not in {"", "0"}, (
        f"The container's process runs as uid {uid or '?'}: root. Switch to your system user "
        f"with USER after the last COPY and RUN. {WHERE}"
    )
    workshop_note(
        f"The image was built with {engine.describe()} and its container ran healthy as "
        f"{uid}:{gid}, not root."
    )
