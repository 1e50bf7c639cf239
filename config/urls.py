from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.observability import metrics_allowed
from core.views import healthz

ANYMAIL_TRACKING = [p for p in anymail_urlpatterns if (p.name or "").endswith("_tracking_webhook")]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_allowed(ExportToDjangoView), name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("rewards/", include("rewards.urls")),
    path("feedback/", include("feedback.urls")),
    path("campaigns/", include("campaigns.urls")),
    # Email providers' tracking webhooks (bounces, complaints): /anymail/<esp>/tracking/ (not the
    # inbound-mail views: Fidelis receives no mail).
    path("anymail/", include((ANYMAIL_TRACKING, "anymail"))),
    path("", include("members.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Errors outside the views' own handling: JSON under /api/, the usual pages elsewhere.
handler400 = "core.api.bad_request"
handler500 = "core.api.server_error"
