"""Placeholder: the `workshop` command is being built (issue 2)."""


def main() -> None:
    raise SystemExit("workshop: not built yet")
