from django.urls import path

from members.api import views

urlpatterns = [
    path("members", views.MembersView.as_view(), name="api-members"),
    path("members/<str:number>", views.MemberView.as_view(), name="api-member"),
    path("members/<str:number>/balance", views.BalanceView.as_view(), name="api-member-balance"),
    path("members/<str:number>/transactions", views.MemberEntriesView.as_view(), name="api-member-transactions"),
    path("transactions", views.PurchasesView.as_view(), name="api-transactions"),
    path("transactions/simulate", views.SimulateView.as_view(), name="api-transactions-simulate"),
    path("transactions/<int:pk>/reverse", views.ReverseView.as_view(), name="api-transaction-reverse"),
    path("events", views.EngagementView.as_view(), name="api-events"),
]
