"""The partner API, version 1: each app contributes its resources."""

from django.urls import include, path

urlpatterns = [
    path("", include("members.api.urls")),
    path("", include("rewards.api.urls")),
    path("", include("feedback.api.urls")),
]
