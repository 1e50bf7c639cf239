from django.urls import path

from rewards.api import catalog, views

urlpatterns = [
    path("rewards", views.RewardsView.as_view(), name="api-rewards"),
    path("redemptions", views.RedemptionsView.as_view(), name="api-redemptions"),
    path("redemptions/<int:pk>", views.RedemptionView.as_view(), name="api-redemption"),
    path("redemptions/<int:pk>/cancel", views.RedemptionCancelView.as_view(), name="api-redemption-cancel"),
    path("members/<str:number>/vouchers", views.MemberVouchersView.as_view(), name="api-member-vouchers"),
    path("vouchers/<str:code>", views.VoucherView.as_view(), name="api-voucher"),
    path("vouchers/<str:code>/consume", views.VoucherConsumeView.as_view(), name="api-voucher-consume"),
    path("burn/quote", views.BurnQuoteView.as_view(), name="api-burn-quote"),
    path("burn/<str:id>", views.BurnHoldView.as_view(), name="api-burn"),
    path("burn/<str:id>/confirm", views.BurnConfirmView.as_view(), name="api-burn-confirm"),
    path("burn/<str:id>/cancel", views.BurnCancelView.as_view(), name="api-burn-cancel"),
]

urlpatterns += [
    path("catalog", catalog.CatalogView.as_view(), name="api-catalog"),
]
