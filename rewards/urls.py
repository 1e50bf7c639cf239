from django.urls import path

from rewards import views

app_name = "rewards"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<int:pk>/redeem/", views.redeem, name="redeem"),
    path("vouchers/", views.vouchers, name="vouchers"),
    path("vouchers/<int:pk>/", views.voucher, name="voucher"),
    path("vouchers/<int:pk>/apple.pkpass", views.voucher_apple_pass, name="voucher_apple"),
    path("vouchers/<int:pk>/google/", views.voucher_google_pass, name="voucher_google"),
]
