"""A small GOV.UK Notify on 127.0.0.1 for the tests: the endpoints the service's client uses, with Notify's JWT
checked (HS256 with the key's secret, `iss` the service id), and every request kept for the test to read.

Like Notify it does not deduplicate by `reference`: a second send with the same reference is a second
notification, which is what the tests look for."""

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

SERVICE_ID = "4f0c5b0e-2a55-4a53-9d0d-6b8b3f1f2a10"
SECRET = "9d1f3c2e-7b1a-4c7e-8f0e-2c6d5a4b3e21"
API_KEY = f"peer_match_test-{SERVICE_ID}-{SECRET}"


@dataclass
class FakeNotify:
    received: list[dict[str, Any]] = field(default_factory=list)  # every POST body, in order
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer the next sends with
    url: str = ""

    def references(self) -> list[str]:
        return [body.get("reference", "") for body in self.received]


def _handler(state: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet: the tests read `state`
            pass

        def _authorised(self) -> bool:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            try:
                claims = jwt.decode(token, SECRET, algorithms=["HS256"])
            except jwt.PyJWTError:
                return False
            return scheme == "Bearer" and claims.get("iss") == SERVICE_ID

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            if not self._authorised():
                return self._answer(403, {"errors": [{"error": "AuthError", "message": "Invalid token"}]})
            path = urlsplit(self.path).path
            kind = {"/v2/notifications/sms": "sms", "/v2/notifications/email": "email"}.get(path)
            if kind is None:
                return self._answer(404, {"errors": [{"error": "NotFound"}]})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            state.received.append({"type": kind, **body})
            if state.fail_next:
                status = state.fail_next.pop(0)
                return self._answer(status, {"status_code": status, "errors": [{"error": "BadRequestError"}]})
            notification_id = str(uuid.uuid4())
            notification = {
                "id": notification_id,
                "reference": body.get("reference"),
                "type": kind,
                "status": "created",
                "template": {"id": body.get("template_id"), "version": 1},
            }
            state.notifications[notification_id] = notification
            return self._answer(
                201, {**notification, "content": {"body": "…"}, "uri": f"/v2/notifications/{notification_id}"}
            )

        def do_GET(self) -> None:
            if not self._authorised():
                return self._answer(403, {"errors": [{"error": "AuthError"}]})
            parts = urlsplit(self.path)
            if parts.path == "/v2/notifications":
                reference = parse_qs(parts.query).get("reference", [None])[0]
                found = [n for n in state.notifications.values() if reference is None or n["reference"] == reference]
                return self._answer(200, {"notifications": found, "links": {}})
            notification = state.notifications.get(parts.path.removeprefix("/v2/notifications/"))
            if notification is None:
                return self._answer(404, {"errors": [{"error": "NoResultFound"}]})
            return self._answer(200, notification)

    return Handler


class Server:
    """Started and stopped by a fixture; `state` is what it received."""

    def __init__(self) -> None:
        self.state = FakeNotify()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeNotify:
        self.thread.start()
        return self.state

    def __exit__(self, *_exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
