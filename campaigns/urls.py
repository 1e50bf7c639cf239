from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.offers, name="offers"),
    path("sms/status/", views.sms_status, name="sms_status"),
]
