"""What the image's `uv sync` must see (no exercise marker: the starter's Dockerfile already
mounts it, and every step must keep it). Without an engine nothing else would notice a
missing one until the first real build."""

import re
import tomllib

from built_image import REPOSITORY
from deploy_files import read_dockerfile


def test_the_uv_sync_step_sees_every_project_file_of_the_workspace():
    workspace = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    members = workspace["tool"]["uv"]["workspace"]["members"]
    needed = ["pyproject.toml", "uv.lock", *(f"{member}/pyproject.toml" for member in members)]
    syncs = [
        instruction
        for stage in read_dockerfile()
        for instruction in stage.all("RUN")
        if re.search(r"\buv sync\b", instruction.arguments)
    ]

    assert syncs, (
        "The Dockerfile runs no `uv sync`: the starter's RUN that installs the dependencies "
        "from the lock file belongs in your build stage (exercise deployment.dockerfile)."
    )
    mounted = set(re.findall(r"from=project,source=([^,\s]+)", syncs[-1].arguments))
    missing = [path for path in needed if path not in mounted]
    assert not missing, (
        f"The `uv sync` on line {syncs[-1].line} does not mount {missing} from the `project` "
        f"context. The repository is a uv workspace (members {members}): uv reads every "
        "member's pyproject.toml to check the lock, and without one the build stops with "
        '"... references a workspace in `tool.uv.sources`, but is not a workspace member". '
        "Keep a --mount=type=bind,from=project,source=...,target=... for each, as the "
        "starter's Dockerfile has them."
    )
