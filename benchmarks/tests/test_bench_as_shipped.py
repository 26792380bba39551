"""The benchmarks load the service as it ships: its password hashes.

A benchmark of something else than what production runs would measure the wrong thing.
"""

from app.config import Settings
from benchmarks.seed import SEED_HASH_PARAMETERS


def test_the_seeded_hash_uses_the_service_default_argon2_parameters() -> None:
    defaults = Settings(_env_file=None)
    service = {
        "time_cost": defaults.password_hash_time_cost,
        "memory_cost": defaults.password_hash_memory_cost_kib,
        "parallelism": defaults.password_hash_parallelism,
    }

    assert service == SEED_HASH_PARAMETERS, (
        "benchmarks/seed.py hashes the seeded users' password with other argon2 parameters "
        "than final/app/config.py's defaults: every first login would rehash it"
    )
