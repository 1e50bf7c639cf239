"""Members' models, one module per concern, all importable from here (`from members.models import Member`).

- program: Program, Tier, Partner, MembershipPlan, EarningRule (what staff configure)
- member: Member, EmailChange, TierChange, Subscription, MemberDevice (a member and their history)
- households: Household, HouseholdInvitation (members who pool points to redeem together)
- cards: Card (loyalty card numbers, printed or virtual, several per member)
- ledger: Purchase, LedgerEntry, PointLot, EngagementAction, PointsTransfer (points and what moved them)
- returns: PurchaseReturn (what a refund took back), Receipt (a purchase without a member, claimed later)
- imports: ImportJob (a partner's CSV of purchases or members, or staff's opening balances, processed in
  the background), OpeningBalanceImport (its admin proxy)
- money: ExchangeRate (purchases in other currencies), PointsPrice and PointsSale (points bought)
- custom_events: CustomEventType (operator-defined events for points), CustomEvent (one reported)
- adjustments: PendingAdjustment (a large staff adjustment waiting for a second staff member)
- outbox: Event, EventHandling (members.outbox)
- partners: PartnerAPIKey, IdempotencyKey, WebhookEndpoint, WebhookDelivery (the partner API)
- review: ReviewCase (held for staff by members.checks, decided in members.review)
- revisions: RuleRevision (versions of the earning rules, tier thresholds and catalog prices)
- ops: MetricSnapshot, AuditEntry, ReconciliationRun (derived figures and operations records)
"""

from members.models.adjustments import PendingAdjustment
from members.models.cards import Card
from members.models.custom_events import CustomEvent, CustomEventType
from members.models.households import Household, HouseholdInvitation
from members.models.imports import ImportJob, OpeningBalanceImport
from members.models.ledger import EngagementAction, LedgerEntry, PointLot, PointsTransfer, Purchase
from members.models.member import EmailChange, Member, MemberDevice, Subscription, TierChange
from members.models.money import ExchangeRate, PointsPrice, PointsSale
from members.models.ops import AuditEntry, MetricSnapshot, ReconciliationRun
from members.models.outbox import Event, EventHandling
from members.models.partners import IdempotencyKey, PartnerAPIKey, WebhookDelivery, WebhookEndpoint
from members.models.program import EarningRule, MembershipPlan, Partner, Program, Tier
from members.models.returns import PurchaseReturn, Receipt
from members.models.review import ReviewCase
from members.models.revisions import RuleRevision

__all__ = [
    "AuditEntry",
    "Card",
    "CustomEvent",
    "CustomEventType",
    "EarningRule",
    "EmailChange",
    "EngagementAction",
    "Event",
    "EventHandling",
    "ExchangeRate",
    "Household",
    "HouseholdInvitation",
    "IdempotencyKey",
    "ImportJob",
    "LedgerEntry",
    "Member",
    "MemberDevice",
    "MembershipPlan",
    "MetricSnapshot",
    "OpeningBalanceImport",
    "Partner",
    "PartnerAPIKey",
    "PendingAdjustment",
    "PointLot",
    "PointsPrice",
    "PointsSale",
    "PointsTransfer",
    "Program",
    "Purchase",
    "PurchaseReturn",
    "Receipt",
    "ReconciliationRun",
    "ReviewCase",
    "RuleRevision",
    "Subscription",
    "Tier",
    "TierChange",
    "WebhookDelivery",
    "WebhookEndpoint",
]
