"""Worked section errors.openapi: the OpenAPI document says that every error is a problem
document, and a 405 names every method of its resource.

document_problems, problem_responses and _allowed_methods (app/problems.py) are given; these
tests pass on the starter.
"""

import pytest
from starlette.requests import Request

from app.problems import _allowed_methods

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Liveness answers or the process is gone: it documents no error.
WITHOUT_ERRORS = {("get", "/health/live")}


@pytest.fixture
async def openapi(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(openapi: dict):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


async def test_every_error_status_is_documented_as_a_problem(openapi):
    for method, path, operation in operations(openapi):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        if (method, path) in WITHOUT_ERRORS:
            continue
        assert errors, f"{method.upper()} {path} documents no error"
        for code, response in errors.items():
            content = response.get("content", {})
            assert list(content) == ["application/problem+json"], (method, path, code, content)
            assert content["application/problem+json"]["schema"] == PROBLEM_REF


async def test_the_routes_document_the_errors_they_answer(openapi):
    documented = {
        (method, path): set(operation["responses"])
        for method, path, operation in operations(openapi)
    }

    assert {"409", "413", "422", "429"} <= documented[("post", "/users")]
    assert {"401", "429", "503"} <= documented[("post", "/auth/token")]
    assert {"401", "403"} <= documented[("get", "/users")]


async def test_the_problem_schema_replaces_fastapis_validation_error(openapi):
    schemas = openapi["components"]["schemas"]

    problem = schemas["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "code", "instance", "request_id"} <= set(problem)
    assert "errors" in problem, "a 422 lists its fields"
    assert "HTTPValidationError" not in schemas, "no schema describes an answer never given"


def allowed_for(app, method: str, path: str) -> set[str]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": app,
    }
    return {name.strip() for name in _allowed_methods(Request(scope)).split(",")}


async def test_a_405_names_every_method_of_the_resource(app):
    # GET /users and POST /users are two routes: Starlette's own 405 names the first's only.
    assert allowed_for(app, "PUT", "/users") == {"GET", "POST"}
    me = allowed_for(app, "PUT", "/users/me")
    assert {"GET", "PATCH", "DELETE"} <= me
    assert "PUT" not in me
