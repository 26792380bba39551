"""The harness loads the service as it ships: its password hashes, its serving flags, and
none of the caller's stray settings.

A benchmark of something else than what production runs would measure the wrong thing.
"""

import json
import shlex

from app.config import Settings
from harness.bench.seed import SEED_HASH_PARAMETERS
from harness.paths import FINAL_DIR
from harness.server import SERVICE_SETTING_NAMES
from harness.serving import SERVING_FLAGS

DOCKERFILE = FINAL_DIR / "Dockerfile"
# Where to listen is the runner's choice (a free port, N workers), not a way of serving.
WHERE_TO_LISTEN = {"--host", "--port", "--workers"}


def options(arguments: list[str] | tuple[str, ...]) -> list[tuple[str, str | None]]:
    """`--flag value` and bare `--flag` pairs, in a stable order: uvicorn ignores theirs."""
    pairs: list[tuple[str, str | None]] = []
    for argument in arguments:
        if argument.startswith("--"):
            pairs.append((argument, None))
        elif pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], argument)
    return sorted(pairs, key=lambda pair: (pair[0], pair[1] or ""))


def dockerfile_uvicorn_arguments() -> list[str]:
    """The arguments after `uvicorn` in the image's CMD (exec form, a `sh -c` script)."""
    cmd_line = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD "))
    script = json.loads(cmd_line.removeprefix("CMD "))[-1]
    words = shlex.split(script)
    return words[words.index("uvicorn") + 1 :]


def test_the_seeded_hash_uses_the_service_default_argon2_parameters() -> None:
    defaults = Settings(_env_file=None)
    service = {
        "time_cost": defaults.password_hash_time_cost,
        "memory_cost": defaults.password_hash_memory_cost_kib,
        "parallelism": defaults.password_hash_parallelism,
    }

    assert service == SEED_HASH_PARAMETERS, (
        "harness/bench/seed.py hashes the seeded users' password with other argon2 parameters "
        "than final/app/config.py's defaults: every first login would rehash it"
    )


def test_the_benchmarks_serve_with_the_flags_of_the_image() -> None:
    shipped = [
        (flag, value)
        for flag, value in options(dockerfile_uvicorn_arguments())
        if flag not in WHERE_TO_LISTEN and flag != "--factory"
    ]

    assert options(SERVING_FLAGS) == shipped, (
        "harness/serving.py's SERVING_FLAGS differ from final/Dockerfile's CMD: the "
        "benchmarks would measure a server that is not the one shipped"
    )


def test_no_setting_of_the_service_leaks_from_the_caller_into_a_server() -> None:
    settings = {name.upper() for name in Settings.model_fields}

    unknown = settings - SERVICE_SETTING_NAMES

    assert not unknown, (
        f"final/app/config.py reads {sorted(unknown)}, which harness/server.py's "
        "SERVICE_SETTING_NAMES lacks: a value in the caller's shell would reach every server "
        "the harness starts. Add them there."
    )
