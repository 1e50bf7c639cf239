from django.urls import path

from members.api import events, members, privacy, program, transactions, webhooks

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

urlpatterns += [
    path("webhooks", webhooks.WebhooksView.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>", webhooks.WebhookView.as_view(), name="api-webhook"),
    path("webhooks/<int:pk>/rotate-secret", webhooks.WebhookRotateView.as_view(), name="api-webhook-rotate"),
    path("webhooks/<int:pk>/test", webhooks.WebhookTestView.as_view(), name="api-webhook-test"),
    path("webhooks/<int:pk>/deliveries", webhooks.WebhookDeliveriesView.as_view(), name="api-webhook-deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>",
        webhooks.WebhookDeliveryView.as_view(),
        name="api-webhook-delivery",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver",
        webhooks.WebhookRedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
]

urlpatterns += [
    path("program", program.ProgramView.as_view(), name="api-program"),
    path("tiers", program.TiersView.as_view(), name="api-tiers"),
    path("earning-rules", program.EarningRulesView.as_view(), name="api-earning-rules"),
]

urlpatterns += [
    path("members/<str:number>/export", privacy.MemberExportView.as_view(), name="api-member-export"),
    path("members/<str:number>/erase", privacy.MemberEraseView.as_view(), name="api-member-erase"),
]
