"""A local webhook server: Discord's, Zulip's (Slack-compatible incoming) or a generic one.

It takes ``POST`` JSON as each service documents: Discord's webhook execute route
(``/api/webhooks/ID/TOKEN``) wants ``content`` or ``embeds``, at most 2000 characters
of content, and answers 204; Zulip's ``/api/v1/external/slack_incoming`` wants
``text`` and answers 200 ``{"result": "success"}``; any other path takes any JSON
object (200). A body that is not what the path wants is a 400, like theirs.
:meth:`stop` closes the port (connections refused, as a webhook that is down) and
:meth:`start` listens on the same port again; ``status`` answers every post with it.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Webhook"]


class Webhook:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, dict]] = []  # (path, body) of the posts taken
        self.attempts = 0
        self.status: int | None = None  # answer every post with this instead
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self, kind: str | None = None) -> list[dict]:
        with self.lock:
            return [b for _, b in self.received if kind is None or b.get("kind") == kind]


def _answer(path: str, body) -> tuple[int, bytes]:
    if not isinstance(body, dict):
        return 400, b'{"message": "Cannot send an empty message", "code": 50006}'
    if path.startswith("/api/webhooks/"):
        content = body.get("content")
        if not content and not body.get("embeds"):
            return 400, b'{"message": "Cannot send an empty message", "code": 50006}'
        if content is not None and (not isinstance(content, str) or len(content) > 2000):
            return 400, b'{"content": ["Must be 2000 or fewer in length."]}'
        return 204, b""
    if path.startswith("/api/v1/external/slack_incoming"):
        if not isinstance(body.get("text"), str) or not body["text"]:
            return 400, b'{"result": "error", "msg": "Missing \'text\' argument"}'
        return 200, b'{"result": "success", "msg": ""}'
    return 200, b"{}"


def _handler(hook: Webhook):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            with hook.lock:
                hook.attempts += 1
            try:
                body = (
                    json.loads(raw)
                    if self.headers.get_content_type() == "application/json"
                    else None
                )
            except ValueError:
                body = None
            status, answer = _answer(self.path, body)
            if hook.status is not None:
                status, answer = hook.status, b'{"message": "told to fail"}'
            elif status < 300:
                with hook.lock:
                    hook.received.append((self.path, body))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler
