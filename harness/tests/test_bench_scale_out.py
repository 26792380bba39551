"""The scale-out benchmark's page: the figures the docs include, between the markers the docs'
snippet names, with the proxy's cost in a column of its own."""

from pathlib import Path

from harness.bench.scale_out import RUNS, summary

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "deployment" / "scale-out.md"


def _run(name: str, servers: int, proxied: bool, rate: float) -> dict:
    return {
        "name": name,
        "servers": servers,
        "proxied": proxied,
        "seconds": 30.0,
        "requests": int(rate * 30),
        "failures": 0,
        "requests_per_second": rate,
        "p50_ms": 20.0,
        "p99_ms": 90.0,
        "server_cpu_ms_per_request": 0.7,
        "proxy_cpu_ms_per_request": 0.1 if proxied else 0.0,
        "locust_cpu_ms_per_request": 0.25,
        "busy_percent": 99.5,
    }


def test_the_page_gives_every_run_and_the_proxys_cost_between_the_docs_markers():
    results = {
        "started": "2026-12-06 10:31 UTC",
        "cores": 2,
        "load_average": [1.2, 1.5],
        "users": 32,
        "seconds": 30,
        "runs": [_run(name, n, proxied, 500.0 * n) for name, n, proxied in RUNS],
    }

    page = summary(results)
    figures = page.split("[start:figures] -->")[1].split("<!-- --8<-- [end:figures]")[0]

    assert "| 2 servers behind HAProxy | 1000.0 | 20 | 90 | 0 | 99.5 % |" in figures
    assert "| HAProxy CPU ms/request |" in figures
    assert "| 1 server, direct | 0.7 | 0.0 | 0.25 |" in figures
    assert "| 2 servers behind HAProxy | 0.7 | 0.1 | 0.25 |" in figures
    assert "load average was 1.2 before and 1.5 after" in figures
    assert '--8<-- "benchmarks/results/baseline/scale-out.md:figures"' in DOCS_PAGE.read_text()
