from django.urls import path

from feedback.api import views

urlpatterns = [
    path("tickets", views.TicketsView.as_view(), name="api-tickets"),
]
