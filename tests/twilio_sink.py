"""A loopback server that speaks Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
HTTP basic auth with the account SID and auth token, form-encoded To/From/MessagingServiceSid/Body/
StatusCallback), answering as Twilio does: 201 with the message resource, or 400/401 with Twilio's error
JSON (code, message, more_info, status), which the real `twilio` client turns into TwilioRestException."""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

INVALID_TO = 21211


class TwilioSink:
    def __init__(self, *, account_sid: str = "AC" + "1" * 32, auth_token: str = "sink-token") -> None:  # noqa: S107
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "TwilioSink":
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                status, answer = sink.handle(self.path, self.headers.get("Authorization", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _error(self, status: int, code: int, message: str) -> tuple[int, dict]:
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def handle(self, path: str, authorization: str, body: str) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if authorization != expected:
            return self._error(401, 20003, "Authenticate")
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return self._error(404, 20404, "The requested resource was not found")
        form = {k: v[0] for k, v in parse_qs(body).items()}
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return self._error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        to = form.get("To", "")
        if not to.startswith("+") or not to[1:].isdigit():
            return self._error(400, INVALID_TO, f"The 'To' number {to} is not a valid phone number.")
        sid = "SM" + uuid.uuid4().hex
        self.messages.append({"sid": sid, **form})
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
