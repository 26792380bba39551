"""A Locust add-on of the load test: it writes down what the service answered when it refused a
request, so the test can show a refusal's `detail` and `errors`, not only its status.

The test runs Locust with `-f locustfile.py,tests/locust_refusals.py`: Locust loads this file
beside yours. Never import it from a test (importing Locust patches the standard library).
Each (method, name, status) is written once, as a JSON line, to the file named by
WORKSHOP_LOCUST_REFUSALS; a refusal that a task marked as a success is written too.
"""

import json
import os

from locust import events

REFUSALS_FILE = os.environ.get("WORKSHOP_LOCUST_REFUSALS")
BODY_CHARACTERS = 2000
_written: set[tuple[str, str, int]] = set()


@events.request.add_listener
def write_down_refusal(request_type, name, response=None, **_) -> None:
    status = getattr(response, "status_code", None) or 0
    if REFUSALS_FILE is None or status < 400 or (request_type, name, status) in _written:
        return
    _written.add((request_type, name, status))
    entry = {"method": request_type, "name": name, "status": status}
    entry["body"] = (response.text or "")[:BODY_CHARACTERS]
    with open(REFUSALS_FILE, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")
