"""The partner API, version 1: each app contributes its resources."""

from django.urls import include, path, re_path

from core.api import not_found

urlpatterns = [
    path("", include("members.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("feedback.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("coalition.api.urls")),
    re_path(r"", not_found),
]
