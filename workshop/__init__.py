"""The `workshop` command: progress, checks, hints, resets and the course's own verification."""
