"""Reading /metrics as Prometheus does: every sample, by name and labels.

Metrics live in prometheus_client's registry, one per process, shared by every app the test
session starts: a test compares the values after its requests with the values before.
"""

from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Samples:
    """One scrape: {(sample name, labels): value}."""

    values: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels; 0 when that series does not exist (yet)."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of every series of `name` whose labels include these."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, sample_labels), value in self.values.items()
            if sample == name and wanted <= sample_labels
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {
            dict(labels)[label]
            for sample, labels in self.values
            if sample == name and label in dict(labels)
        }


def parse(exposition: str) -> Samples:
    values = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Samples(values)


async def scrape(client: AsyncClient, **headers: str) -> Samples:
    """What GET /metrics serves right now (app/metrics.py's read_metrics, given)."""
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, (
        f"GET /metrics should answer 200 in a test environment without METRICS_TOKEN; it "
        f"answered {response.status_code}: {response.text[:200]}. Is read_metrics in "
        f"app/metrics.py still as the chapter gave it?"
    )
    try:
        return parse(response.text)
    except ValueError as error:
        pytest.fail(f"/metrics is not in the Prometheus text format: {error}")
