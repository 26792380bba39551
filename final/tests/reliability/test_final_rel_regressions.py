"""Regression tests for the bugs the reliability suite found in final/app, one per fix."""

import pytest

A_USER_ID = "3f1c0e0a-8a8e-4d38-9f57-0f3a2b1c4d5e"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/users", {"GET", "POST"}),
        ("/users/me", {"GET", "PATCH", "DELETE"}),
        (f"/users/{A_USER_ID}", {"GET", "PATCH", "DELETE"}),
    ],
)
async def test_a_405_lists_every_method_of_the_resource_in_allow(client, path, methods):
    """Found by Schemathesis (ST205): `OPTIONS /users` answered `Allow: POST`, leaving out GET,
    because Starlette names only the methods of the first route that matches the path."""
    response = await client.request("OPTIONS", path)

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == methods, f"{path}: Allow lists {sorted(allowed)}, not {sorted(methods)}"
    for method in allowed:
        answer = await client.request(method, path)
        assert answer.status_code != 405, f"Allow names {method} {path}, which answers 405"
