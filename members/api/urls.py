from django.urls import path

from members.api import events, members, transactions

urlpatterns = [
    path("members", members.MembersView.as_view(), name="api-members"),
    path("members/<str:number>", members.MemberView.as_view(), name="api-member"),
    path("members/<str:number>/balance", members.BalanceView.as_view(), name="api-member-balance"),
    path("members/<str:number>/transactions", members.MemberEntriesView.as_view(), name="api-member-transactions"),
    path("members/<str:number>/subscriptions", members.SubscriptionsView.as_view(), name="api-member-subscriptions"),
    path(
        "members/<str:number>/subscriptions/<int:subscription_id>/payment",
        members.SubscriptionPaymentView.as_view(),
        name="api-member-subscription-payment",
    ),
    path("transactions", transactions.PurchasesView.as_view(), name="api-transactions"),
    path("transactions/<int:pk>", transactions.PurchaseView.as_view(), name="api-transaction"),
    path("transactions/simulate", transactions.SimulateView.as_view(), name="api-transactions-simulate"),
    path("transactions/<int:pk>/reverse", transactions.ReverseView.as_view(), name="api-transaction-reverse"),
    path("events", events.EventsView.as_view(), name="api-events"),  # GET: the feed; POST: engagement
]
