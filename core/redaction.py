"""Personal data and secrets out of the logs: a filter on every log handler (settings.LOGGING, and the
Celery worker's handlers) rewrites each record's message, arguments and traceback.

What goes: email addresses, phone numbers, Django-signed tokens (sign-in, unsubscribe and survey
links, also inside logged URLs), partner API keys and `Authorization` headers, webhook secrets and
`password=`/`token=`-style pairs. Member numbers stay: they are pseudonymous and what support needs
to find a member.
"""

import logging
import re

from django.views.debug import ExceptionReporter

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # "Api-Key <key>" / "Bearer <token>" in a logged header.
    (re.compile(r"\b(Api-Key|Bearer|Token|Basic)\s+[^\s,;'\"]+", re.IGNORECASE), r"\1 [redacted]"),
    # Query-string or key=value secrets.
    (
        re.compile(r"\b(password|passwd|secret|token|api_key|apikey|key|signature)=[^&\s,;'\"]+", re.IGNORECASE),
        r"\1=[redacted]",
    ),
    (re.compile(r"\bwhsec_[A-Za-z0-9_-]+"), "[secret]"),
    # djangorestframework-api-key keys: "<8-char prefix>.<32-char secret>".
    (re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b"), "[api-key]"),
    # django.core.signing values: payload[:timestamp]:signature (signature >= 27 url-safe base64 chars).
    (re.compile(r"\.?[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+)*:[A-Za-z0-9_-]{27,}"), "[token]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    # International numbers (+40 721 234 567) and national ones with a trunk 0 (0721 234 567).
    (re.compile(r"(?<![\w+])\+\d[\d ().-]{5,18}\d"), "[phone]"),
    (re.compile(r"(?<![\w.:-])0\d{2,4}[ .-]?\d{3}[ .-]?\d{3,4}(?![\w.:-])"), "[phone]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Never drops a record; rewrites it. The message is formatted with its arguments first, so a value
    passed as an argument is redacted like one written into the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself, leave the record alone
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingExceptionReporter(ExceptionReporter):
    """The error emails to ADMINS carry the request and local variables: same redaction."""

    def get_traceback_text(self) -> str:
        return redact(super().get_traceback_text())

    def get_traceback_html(self) -> str:
        return redact(super().get_traceback_html())


def install_on_handlers(logger: logging.Logger, *filters: logging.Filter) -> None:
    """Celery replaces the root handlers in a worker; put the filter (and the given ones, such as the
    request id) on the ones it made."""
    for handler in logger.handlers:
        for extra in filters:
            if not any(isinstance(f, type(extra)) for f in handler.filters):
                handler.addFilter(extra)
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


def redact_event(event: dict, hint: dict | None = None) -> dict:
    """sentry-sdk's before_send / before_send_log: every string in an error event (message, exception
    values, frame variables, breadcrumbs, request data) passes the same redaction as a log line."""
    return _redact_value(event)


def _redact_value(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value
