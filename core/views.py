from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_state() -> str:
    if not settings.BROKER_CONFIGURED:
        return "not configured (tasks run eagerly)"
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "unavailable"


@never_cache
@require_GET
def healthz(request):
    database = "ok" if _database_ok() else "unavailable"
    broker = _broker_state()
    healthy = database == "ok" and broker != "unavailable"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )
