"""`python -m benchmarks`: run the benchmarks or compare a results folder with the baseline."""

import sys

from benchmarks.cli import main

sys.exit(main())
