"""What the image must never hold (no exercise marker: it stays true at every step)."""

import fnmatch

from deploy_files import DOCKERFILE, DOCKERIGNORE


def sent_to_docker(path: str, rules: list[str]) -> bool:
    """Whether .dockerignore lets `path` into the build context (the last matching rule wins)."""
    included = True
    for rule in rules:
        pattern = rule.removeprefix("!")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            included = rule.startswith("!")
    return included


def test_no_secret_reaches_the_image():
    assert "SECRET_KEY" not in DOCKERFILE.read_text(), (
        "The Dockerfile names SECRET_KEY: a secret in an image is readable by anyone who can "
        "pull it (`docker history`). Pass it at run time (compose's environment, a secret store)."
    )
    rules = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for kept_out in (".env", "tests/conftest.py", ".venv/bin/python"):
        assert not sent_to_docker(kept_out, rules), (
            f".dockerignore lets {kept_out} into the build context: keep it out."
        )
    for needed in ("app/main.py", "migrations/env.py", "alembic.ini"):
        assert sent_to_docker(needed, rules), f".dockerignore keeps out {needed}, which runs."
