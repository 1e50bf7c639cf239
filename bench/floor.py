"""The framework floor: the real URLconf plus one bare view returning constant JSON, served by the
same gunicorn settings, so `read/floor` compares the balance endpoint with Django doing nothing."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def floor(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/floor", floor), *app_urlpatterns]
