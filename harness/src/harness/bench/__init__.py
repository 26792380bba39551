"""The workshop's load benchmarks: Locust scenarios, the runner that drives them, the reports.

`uv run workshop bench run` starts PostgreSQL, Redis and the service, seeds them, runs
every scenario headless and writes a results folder under `benchmarks/results/`.
The runner never imports Locust: Locust patches the standard library on import, so it
always runs in a subprocess of its own.
"""
