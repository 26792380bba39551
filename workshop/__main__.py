"""`python -m workshop`: the same as the `workshop` command."""

from workshop.cli import main

main()
