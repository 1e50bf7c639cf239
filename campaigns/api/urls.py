from django.urls import path

from campaigns.api import views

urlpatterns = [
    path("offer-codes/<str:code>", views.OfferCodeView.as_view(), name="api-offer-code"),
    path("offer-codes/<str:code>/consume", views.OfferCodeConsumeView.as_view(), name="api-offer-code-consume"),
]
