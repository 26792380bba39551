"""Worked section errors.plain_errors: the errors that other middleware answers before the
app (the host check, a refused CORS preflight) are problem documents too.

PlainErrorsAsProblemsMiddleware (app/middleware.py) is given; these tests pass on the starter.
"""

PROBLEM = "application/problem+json"


async def test_an_unknown_host_is_a_400_problem(client):
    response = await client.get("/health/live", headers={"Host": "attacker.example"})

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM, (
        f"TrustedHostMiddleware answers text/plain; the wrapper makes it a problem: "
        f"{response.headers['content-type']!r} {response.text!r}"
    )
    body = response.json()
    assert (body["code"], body["status"]) == ("bad_request", 400)
    assert body["detail"] == "Invalid host header", "the original text becomes the detail"


async def test_a_refused_cors_preflight_is_a_400_problem_that_keeps_its_headers(client):
    response = await client.options(
        "/users",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith("Disallowed CORS origin")
    assert "access-control-allow-origin" not in response.headers, "the origin is not granted"
    assert "access-control-allow-methods" in response.headers, (
        "the original answer's own headers are kept (only its body changes)"
    )


async def test_answers_that_are_not_errors_pass_untouched(client, settings):
    origin = settings.cors_origins[0]

    response = await client.options(
        "/users", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin
    assert response.text == "OK", "a granted preflight keeps CORSMiddleware's own answer"
