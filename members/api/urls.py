from django.urls import path

from members.api import (
    batch,
    cards,
    custom_events,
    events,
    imports,
    members,
    points_sales,
    privacy,
    program,
    receipts,
    transactions,
    transfers,
    webhooks,
)

urlpatterns = [
    path("members", members.MembersView.as_view(), name="api-members"),
    path("members/batch", batch.MembersBatchView.as_view(), name="api-members-batch"),
    path("members/<str:number>", members.MemberView.as_view(), name="api-member"),
    path("members/<str:number>/balance", members.BalanceView.as_view(), name="api-member-balance"),
    path("members/<str:number>/transactions", members.MemberEntriesView.as_view(), name="api-member-transactions"),
    path("members/<str:number>/subscriptions", members.SubscriptionsView.as_view(), name="api-member-subscriptions"),
    path(
        "members/<str:number>/subscriptions/<int:subscription_id>/payment",
        members.SubscriptionPaymentView.as_view(),
        name="api-member-subscription-payment",
    ),
    path("members/<str:number>/cards", cards.MemberCardsView.as_view(), name="api-member-cards"),
    path("members/<str:number>/events", custom_events.MemberEventsView.as_view(), name="api-member-events"),
    path("cards/<str:card>", cards.CardView.as_view(), name="api-card"),
    path("cards/<str:card>/block", cards.CardBlockView.as_view(), name="api-card-block"),
    path("cards/<str:card>/replace", cards.CardReplaceView.as_view(), name="api-card-replace"),
    path("transactions", transactions.PurchasesView.as_view(), name="api-transactions"),
    path("transactions/<int:pk>", transactions.PurchaseView.as_view(), name="api-transaction"),
    path("transactions/simulate", transactions.SimulateView.as_view(), name="api-transactions-simulate"),
    path("transactions/<int:pk>/reverse", transactions.ReverseView.as_view(), name="api-transaction-reverse"),
    path("events", events.EventsView.as_view(), name="api-events"),  # GET: the feed; POST: engagement
    path("transactions/batch", batch.TransactionsBatchView.as_view(), name="api-transactions-batch"),
    path("receipts", receipts.ReceiptsView.as_view(), name="api-receipts"),
    path("receipts/<int:pk>/claim", receipts.ReceiptClaimView.as_view(), name="api-receipt-claim"),
    path("imports", imports.ImportsView.as_view(), name="api-imports"),
    path("imports/<int:pk>", imports.ImportView.as_view(), name="api-import"),
    path("transfers", transfers.TransfersView.as_view(), name="api-transfers"),
    path(
        "members/<str:number>/points-purchases",
        points_sales.MemberPointsPurchasesView.as_view(),
        name="api-member-points-purchases",
    ),
    path(
        "points-purchases/<int:pk>/refund",
        points_sales.PointsPurchaseRefundView.as_view(),
        name="api-points-purchase-refund",
    ),
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
