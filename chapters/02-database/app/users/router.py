"""`/users`: register, read, list, change and delete users."""

from fastapi import APIRouter

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row

# TODO(database.crud): the routes speak HTTP and nothing else; app/users/service.py does
# the work, with a session from SessionDep (app/dependencies.py), and raises the domain's
# exceptions (app/users/exceptions.py). Write:
# - POST "" registers a UserCreate: 201 Created, the new UserRead, and a Location header
#   naming the new user (/users/<id>);
# - GET /<id> answers the UserRead; PATCH /<id> applies a UserUpdate and answers the
#   changed UserRead; DELETE /<id> answers 204 with an empty body;
# - a path whose last part is not a UUID names nothing: 404, like any unknown path (not a
#   422: the client did not send a bad value, it asked for a page that does not exist);
# - one context manager, used around every service call, that turns UserNotFound into a
#   404 and UserAlreadyExists into a 409, with the exception's own message: the mapping
#   from the domain to HTTP is written once.
# `/users/` is served like `/users` already (TrailingSlashMiddleware, app/middleware.py).

# TODO(database.pagination): GET "" answers one page of users as a UserPage: the items,
# the total number of users, and the limit and offset used. `limit` (default 20) and
# `offset` (default 0) are query parameters with bounds, 1..MAX_PAGE_SIZE and
# 0..MAX_OFFSET, that FastAPI enforces (422 outside them): without a bound, one request
# could ask for the whole table or make PostgreSQL skip millions of rows.
