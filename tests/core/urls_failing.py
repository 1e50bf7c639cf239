"""The site's URLs plus endpoints that fail the way a bug would (an unhandled exception), for the
tests of the error pages: a DRF view under /api/ and a page outside it."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.views import APIView

from config.urls import handler400, handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns


class Failing(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("a bug")


def failing_page(request) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("api/v1/failing", Failing.as_view()),
    path("failing", failing_page),
    *site_urlpatterns,
]
