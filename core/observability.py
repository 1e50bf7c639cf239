"""Logs, errors and metrics for operators: JSON log lines on request, optional Sentry error tracking
(everything it sends passes the log redaction), and the Prometheus endpoint's access rule."""

import ipaddress

from django.conf import settings
from django.http import HttpResponseForbidden

from core.redaction import redact_event

LOG_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def json_formatter():
    """One JSON object per line (time, level, logger, request id, message), for log shippers."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(LOG_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})


def sentry_init(dsn: str, *, environment: str, release: str, traces_sample_rate: float) -> None:
    """Errors of web requests and Celery tasks go to Sentry, and beat's schedules become cron monitors
    (check-ins), so a scheduler that died is noticed. No personal data: send_default_pii is off and
    every event passes core.redaction."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=True)],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=redact_event,
        before_send_transaction=redact_event,
        before_breadcrumb=redact_event,
    )


def metrics_allowed(view):
    """/metrics answers only the addresses in METRICS_ALLOWED_NETWORKS (default: loopback), so member
    counts and queue depths are not published to the internet."""
    networks = [ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS]

    def guarded(request, *args, **kwargs):
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return HttpResponseForbidden()
        if not any(address in net for net in networks):
            return HttpResponseForbidden()
        return view(request, *args, **kwargs)

    return guarded
