"""A loopback server that speaks Brevo's transactional email API (`POST /v3/smtp/email`) well enough for
django-anymail's Brevo backend, which the tests and the fan-out bench drive unchanged: the `api-key`
header, a single message or a batch of `messageVersions` with per-recipient `params` and `headers`,
`{{ params.x }}` substituted in the subject and both parts (HTML-escaped in the HTML part, as Brevo's
template language does), the `idempotencyKey` header (a call repeated with a key already seen is answered
as the first one was and delivers nothing), and the answer: 201 with `messageId` or `messageIds`.

    sink = BrevoSink(); sink.start(); ... EMAIL_URL=anymail://brevo ANYMAIL_API_URL=sink.url ...

`keep=False` (the bench) counts recipients without building the messages, so the sink's own cost stays
out of the deliveries/s figure as far as it can.
"""

import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARAM = re.compile(r"\{\{\s*params\.(\w+)\s*\}\}")


class BrevoSink:
    def __init__(self, *, api_key: str = "sink-key", keep: bool = True, port: int = 0) -> None:
        self.api_key, self.keep, self.port = api_key, keep, port
        self.messages: list[dict] = []
        self.delivered = 0
        self.calls = 0
        self.replays = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._answers: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3/"

    def start(self) -> "BrevoSink":
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = sink.handle(self.path, self.headers.get("api-key"), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def recipients(self) -> list[str]:
        return [m["to"] for m in self.messages]

    # --- the API ---------------------------------------------------------------------------------

    def handle(self, path: str, api_key: str | None, body: bytes) -> tuple[int, bytes]:
        if not path.rstrip("/").endswith("/smtp/email"):
            return 404, b'{"code":"not_found","message":"Invalid route"}'
        if api_key != self.api_key:
            return 401, b'{"code":"unauthorized","message":"Key not found"}'
        try:
            data = json.loads(body)
        except ValueError:
            return 400, b'{"code":"bad_request","message":"Invalid JSON"}'
        missing = [f for f in ("sender", "subject") if not data.get(f)]
        if not (data.get("to") or data.get("messageVersions")):
            missing.append("to")
        if not (data.get("htmlContent") or data.get("textContent")):
            missing.append("htmlContent")
        if missing:
            return 400, json.dumps({"code": "missing_parameter", "message": f"{missing[0]} is missing"}).encode()
        key = {k.lower(): v for k, v in (data.get("headers") or {}).items()}.get("idempotencykey")
        with self._lock:
            self.calls += 1
            if key and key in self._answers:
                self.replays += 1
                return 201, self._answers[key]
            answer = self._deliver(data)
            if key:
                self._answers[key] = answer
            return 201, answer

    def _deliver(self, data: dict) -> bytes:
        versions = data.get("messageVersions") or [{"to": data["to"]}]
        ids = []
        for version in versions:
            message_id = f"<{uuid.uuid4().hex}@smtp-relay.mailin.fr>"
            ids.append(message_id)
            self.delivered += len(version["to"])
            if self.keep:
                params = {**(data.get("params") or {}), **(version.get("params") or {})}
                for to in version["to"]:
                    self.messages.append(
                        {
                            "to": to["email"],
                            "message_id": message_id,
                            "subject": _fill(version.get("subject") or data["subject"], params, escape=False),
                            "text": _fill(data.get("textContent") or "", params, escape=False),
                            "html": _fill(data.get("htmlContent") or "", params, escape=True),
                            "headers": {**(data.get("headers") or {}), **(version.get("headers") or {})},
                        }
                    )
        now = time.monotonic()
        self.first_at = self.first_at or now
        self.last_at = now
        if data.get("messageVersions"):
            return json.dumps({"messageIds": ids}).encode()
        return json.dumps({"messageId": ids[0]}).encode()


def _fill(text: str, params: dict, *, escape: bool) -> str:
    def value(match: re.Match) -> str:
        found = str(params.get(match.group(1), ""))
        return html.escape(found) if escape else found

    return PARAM.sub(value, text)
