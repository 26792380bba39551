"""Bad input: Schemathesis drives every operation of the OpenAPI schema against a running
server. The short form here tries a bounded number of examples per operation; the long
form (`uv run workshop reliability fuzz`) tries many more."""

import pytest

from harness.reliability.fuzz import run_schemathesis

# Schemathesis over every operation: a quarter of a minute and more.
pytestmark = pytest.mark.slow

SHORT_EXAMPLES = 20


def test_every_operation_survives_schemathesis(rel_stack, tmp_path, report_figure):
    """Schema-driven fuzzing (examples, boundary values, random and invalid data, stateful
    sequences) of every operation: no 500, every error a problem document, every answer
    matching the schema, every operation answering 2xx at least once."""
    result = run_schemathesis(rel_stack, tmp_path, max_examples=SHORT_EXAMPLES)
    report_figure(result.summary())

    assert result.operations >= 13, f"every operation is fuzzed:\n{result.output_tail}"
    assert result.test_cases > 0
    assert result.passed, f"{result.summary()}\n{result.output_tail}"
