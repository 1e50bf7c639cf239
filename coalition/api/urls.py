from django.urls import path

from coalition.api import views

urlpatterns = [
    path("settlements", views.SettlementsView.as_view(), name="api-settlements"),
    path("settlements/<int:pk>", views.SettlementView.as_view(), name="api-settlement"),
]
