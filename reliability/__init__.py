"""`python -m reliability`: the long forms of the reliability suite (final/tests/reliability/)."""
