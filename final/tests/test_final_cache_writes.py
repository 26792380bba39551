"""Every write route drops the user's cached entry, so no read after a write is stale.

Each case warms the target's entry first, writes through the route, and then checks both
that the entry is gone and that the next read (which would be served from a stale entry
if one were left) shows what the write did.
"""

from dataclasses import dataclass

import pytest
from final_helpers import DEFAULT_PASSWORD, user_cache_of

from app.users.models import Role


@dataclass(frozen=True)
class WriteRoute:
    method: str
    path: str  # `{id}` stands for the target's id
    as_admin: bool  # False: the target writes to its own account
    body: dict | None = None

    @property
    def deletes(self) -> bool:
        return self.method == "DELETE"


WRITE_ROUTES = {
    "PATCH /users/me (name)": WriteRoute("PATCH", "/users/me", False, {"full_name": "After"}),
    "PATCH /users/me (email)": WriteRoute(
        "PATCH",
        "/users/me",
        False,
        {"email": "changed-by-self@example.com", "current_password": DEFAULT_PASSWORD},
    ),
    "PATCH /users/me (password)": WriteRoute(
        "PATCH",
        "/users/me",
        False,
        {"password": "a brand new passphrase", "current_password": DEFAULT_PASSWORD},
    ),
    "PATCH /users/{id} (name)": WriteRoute("PATCH", "/users/{id}", True, {"full_name": "After"}),
    "PATCH /users/{id} (role)": WriteRoute("PATCH", "/users/{id}", True, {"role": "admin"}),
    "PATCH /users/{id} (password)": WriteRoute(
        "PATCH", "/users/{id}", True, {"password": "set by the admin 123"}
    ),
    "DELETE /users/me": WriteRoute("DELETE", "/users/me", False),
    "DELETE /users/{id}": WriteRoute("DELETE", "/users/{id}", True),
}


@pytest.mark.parametrize("route_name", WRITE_ROUTES)
async def test_every_write_route_drops_the_cached_user(client, create_user, login, app, route_name):
    route = WRITE_ROUTES[route_name]
    admin = await login(await create_user(role=Role.ADMIN))
    target = await create_user(full_name="Before")
    own = await login(target)
    before = await client.get(f"/users/{target.id}", headers=admin.headers)
    key = user_cache_of(app).key(target.id)
    assert before.status_code == 200, before.text
    assert await app.state.resources.redis.exists(key), "the control: the read cached the target"

    headers = admin.headers if route.as_admin else own.headers
    written = await client.request(
        route.method, route.path.format(id=target.id), json=route.body, headers=headers
    )
    still_cached = await app.state.resources.redis.exists(key)
    after = await client.get(f"/users/{target.id}", headers=admin.headers)

    assert written.status_code == (204 if route.deletes else 200), written.text
    assert not still_cached, (
        f"{route_name} left the cached entry {key!r} in Redis: the write must call "
        "user_cache.invalidate(user_id) (app/users/service.py) once it has committed"
    )
    if route.deletes:
        assert after.status_code == 404, f"a user deleted by {route_name} was still served"
    else:
        assert after.status_code == 200, after.text
        assert after.json() == written.json(), (
            f"the read after {route_name} is stale: it should show what the write returned"
        )
        assert after.json() != before.json(), "the write changed the user (updated_at at least)"
