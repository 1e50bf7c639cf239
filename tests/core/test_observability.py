"""What operators read: JSON log lines, Sentry events without personal data (the real sentry-sdk
against a loopback server speaking Sentry's envelope endpoint), request ids carried into Celery
tasks, and /metrics with the backlog gauges, closed to the internet."""

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from config.celery import app
from core.middleware import RequestIdFilter, request_id_get, request_id_reset, request_id_set
from core.observability import json_formatter, sentry_init
from core.redaction import RedactFilter
from members.models import Event


def test_json_log_lines_carry_level_logger_request_id_and_a_redacted_message():
    record = logging.LogRecord("members", logging.WARNING, __file__, 1, "refund for %s", ("ana@example.com",), None)
    token = request_id_set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_reset(token)
    RedactFilter().filter(record)
    line = json.loads(json_formatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "members" and line["request_id"] == "req-42"
    assert line["message"] == "refund for [email]" and "time" in line


class _SentrySink(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).bodies.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_sink():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SentrySink)
    _SentrySink.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public@127.0.0.1:{server.server_port}/1"
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: the SDK is off again for the rest of the session
    server.shutdown()


def test_sentry_receives_errors_without_personal_data(sentry_sink):
    sentry_init(sentry_sink, environment="test", release="r1", traces_sample_rate=0)
    try:
        raise ValueError("could not reach ana@example.com at +40 721 234 567")
    except ValueError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=10)
    sent = b"".join(_SentrySink.bodies).decode()
    assert "could not reach [email] at [phone]" in sent
    assert "ana@example.com" not in sent and "721 234" not in sent
    assert '"environment":"test"' in sent.replace(" ", "")


_seen: list[str] = []


@app.task(name="tests.core.report_request_id")
def _report_request_id():
    _seen.append(request_id_get())


@pytest.mark.django_db(transaction=True)
def test_a_task_logs_under_the_request_id_that_enqueued_it(settings):
    """A real (threaded) worker on the in-memory transport: the id travels in the message headers."""
    previous = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    app._pool = app.amqp._producer_pool = None
    _seen.clear()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=["default"]):
            token = request_id_set("req-from-api")
            try:
                _report_request_id.apply_async(queue="default")
            finally:
                request_id_reset(token)
            deadline = threading.Event()
            for _ in range(100):
                if _seen:
                    break
                deadline.wait(0.1)
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
        app._pool = app.amqp._producer_pool = None
    assert _seen == ["req-from-api"]
    assert request_id_get() == "-"


@pytest.mark.django_db
def test_metrics_show_the_backlogs_to_loopback_only(client, member):
    Event.objects.create(program=member.program, member=member, type="member.enrolled", occurred_at=timezone.now())
    waiting = Event.objects.filter(dispatched_at__isnull=True).count()
    assert waiting >= 1
    body = client.get("/metrics").content.decode()
    assert f"fidelis_events_undispatched {waiting:.1f}" in body
    assert "fidelis_webhook_deliveries_pending 0.0" in body
    assert "django_http_requests_total_by_method_total" in body
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
