"""Fuzzing the inputs: whatever JSON or form a client sends, the answer is never a 500."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any JSON value, with the field names the service knows mixed in among random ones.
FIELD_NAMES = st.sampled_from(["email", "password", "full_name", "role", "refresh_token"])
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.emails()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(FIELD_NAMES | st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=10,
)
BODIES = st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=5) | JSON_VALUES
FUZZ = settings(
    max_examples=60,
    deadline=None,
    # One app serves every example: what accumulates in it is part of the test.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def assert_handled(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@FUZZ
@given(body=BODIES)
async def test_registration_never_fails_with_a_500(client, body):
    assert_handled(await client.post("/users", json=body))


@FUZZ
@given(raw=st.binary(max_size=300))
async def test_arbitrary_bytes_as_json_never_fail_with_a_500(client, raw):
    headers = {"Content-Type": "application/json"}
    assert_handled(await client.post("/users", content=raw, headers=headers))


@FUZZ
@given(body=BODIES)
async def test_profile_updates_never_fail_with_a_500(client, admin_tokens, body):
    assert_handled(await client.patch("/users/me", json=body, headers=admin_tokens.headers))


@FUZZ
@given(username=st.text(max_size=400), password=st.text(max_size=200))
async def test_logins_never_fail_with_a_500(client, username, password):
    assert_handled(
        await client.post("/auth/token", data={"username": username, "password": password})
    )


@FUZZ
@given(token=st.text(max_size=300) | st.just("a.b.c") | st.binary(max_size=60).map(repr))
async def test_any_bearer_token_is_a_4xx(client, token):
    headers = {"Authorization": f"Bearer {json.dumps(token)[1:-1]}"}
    response = await client.get("/users/me", headers=headers)
    assert_handled(response)
    assert response.status_code == 401
