"""Writes for members, one module per subdomain; what other modules call is importable from here
(`services.points_spend`, `from members.services import lock_members`).

- cards: loyalty cards (issue, block, replace, the active card behind a number)
- accounts: enrollment, profile and consents, email changes (confirmed by the new address, reported
  by the old one), status, GDPR erasure, member numbers and codes
- audit: the audit trail every staff write appends to
- ledger: the two primitives every balance change goes through (`ledger_credit`, `ledger_debit`),
  their bulk forms for periodic jobs, and points_spend / grant / refund / adjust
- purchases: recording a purchase and its points
- refunds: reversals of a purchase by amount or by returned items, with their share of what it set off
- custom_events: operator-defined events a partner reports for points
- transfers: points one member gives another of the program, within the program's limits
- households: members who pool their points (invitations, leaving, pooled redemptions and refunds)
- receipts: purchases recorded without a member, claimed by one later within the program's window
- referrals: the reward when a referral qualifies
- engagement: engagement actions and birthdays
- expiry: pending points released, points expired, the notice before expiry (periodic)
- tiers: upgrades, staff assignments, the daily review
- plans: paid membership plans
- currency: exchange rates, purchases in other currencies converted at the rate of their date
- points_sales: points bought (a partner's sale, a member page order settled by the payment)
- opening: opening balances of a program moving from another platform (an import kind)
- revisions: versions of the rules (earn rate, earning rules, tiers, catalog prices): drafts, their
  simulation, scheduling and publishing, the revision recorded on every edit in admin

Every balance change runs in one transaction holding the member row lock (members.locks states
the lock order); the cached balances on Member always equal the ledger sum and the lots'
remainders (members.selectors.ledger_mismatches). Below the services: members.checks (the checks
they make: an active member, velocity limits, self-referral, debt cases), members.earning (what
earns how much), members.selectors (reads), members.outbox and members.events (events). Above
them: members.review (staff decide held cases), members.tasks (Celery), views, admin and the API.

Where a change goes:
- A new earning-rule kind (3 files, plus what tools generate and a test): its choice on
  EarningRule.Kind (members/models/program.py) and the migration makemigrations writes for it;
  how it earns in members/earning.py (earn_quote: a line, basket or bonus rule); what it needs
  filled in, in the admin's EarningRuleForm (NEEDS, in members/admin/forms.py); its label in
  locale/*/LC_MESSAGES/django.po (makemessages, then translate); a test in
  tests/members/test_earning.py. Optional: how the member pages word its breakdown line
  (templates/members/_why.html, else the rule's name shows) and the kinds listed in the API's
  RuleLineSerializer help text.
- A new event type (2 files and a test): its payload class with @event_type in the events.py of
  the app whose service records it (members/events.py here), and `event_record(TheType(...), ...)`
  in that service. Reactions subscribe with @handles(TheType) in any app's handlers.py. With
  `webhook=True` it is a partner webhook too: the sender (members/partners/webhooks.py) and the admin's
  endpoint form read the registry, so only README's list of webhook types for partners is added
  by hand.
- A new balance movement: a LedgerEntry.Kind (and whether it counts in ISSUED_KINDS), then a
  service that locks the member and calls ledger_credit or ledger_debit; never write balances,
  lots or entries anywhere else.
- A new value rule revisions should version (a rule's field, a price): its name in the `fields` (and
  `editable`) of its part in members/services/revisions.py, or of the part its app registers
  (rewards/revisions.py); the draft form, the diff, the simulation and publishing read the parts.
- A new periodic job: a chunked service here, a thin task in members/tasks.py, its schedule in
  config/settings.py (CELERY_BEAT_SCHEDULE).
"""

from members.locks import lock_household, lock_members
from members.services.accounts import (
    PROFILE_FIELDS,
    email_change_confirm,
    email_change_report,
    email_change_request,
    member_anonymize,
    member_consent_set,
    member_enroll,
    member_enroll_once,
    member_nps_set,
    member_profile_change,
    member_set_status,
    member_update,
    new_code,
    normalize_email,
)
from members.services.audit import NOT_RECORDED, audit_changes, audit_record
from members.services.cards import (
    card_active,
    card_block,
    card_issue,
    card_number_normalize,
    card_replace,
    card_shown,
)
from members.services.currency import exchange_rate_set
from members.services.custom_events import custom_event_record
from members.services.engagement import birthdays_award, points_engage
from members.services.expiry import points_expire_due, points_expiry_notify, points_release_pending
from members.services.households import (
    household_create,
    household_invitation_accept,
    household_invitation_decline,
    household_invite,
    household_leave,
    household_points_refund,
    household_points_spend,
    household_tiers_evaluate,
)
from members.services.ledger import (
    ledger_credit,
    ledger_debit,
    points_adjust,
    points_adjust_approval_above,
    points_adjust_approve,
    points_adjust_limit,
    points_adjust_reject,
    points_adjust_request,
    points_grant,
    points_refund,
    points_spend,
)
from members.services.plans import (
    active_plan,
    plan_cancel,
    plan_payment_record,
    plan_renew,
    plan_subscribe,
    subscriptions_expire,
)
from members.services.points_sales import (
    points_order_place,
    points_order_settle,
    points_price_quote,
    points_sale_refund,
    points_sell,
)
from members.services.privacy import member_data_export, member_erase
from members.services.purchases import (
    ITEM_KINDS,
    external_reference_normalize,
    purchase_amounts_check,
    purchase_items_check,
    purchase_quote,
    purchase_record,
    purchase_simulate,
)
from members.services.receipts import receipt_claim, receipt_record
from members.services.refunds import purchase_reverse
from members.services.revisions import (
    RevisionPart,
    revision_changes,
    revision_part_register,
    rule_revision_capture,
    rule_revision_draft_create,
    rule_revision_draft_update,
    rule_revision_publish,
    rule_revision_schedule,
    rule_revision_simulate,
    rule_revision_unschedule,
    rule_revisions_publish_due,
)
from members.services.tiers import tier_assign, tiers_review
from members.services.transfers import points_transfer

__all__ = [
    "ITEM_KINDS",
    "NOT_RECORDED",
    "PROFILE_FIELDS",
    "RevisionPart",
    "active_plan",
    "audit_changes",
    "audit_record",
    "birthdays_award",
    "card_active",
    "card_block",
    "card_issue",
    "card_number_normalize",
    "card_replace",
    "card_shown",
    "custom_event_record",
    "email_change_confirm",
    "email_change_report",
    "email_change_request",
    "exchange_rate_set",
    "external_reference_normalize",
    "household_create",
    "household_invitation_accept",
    "household_invitation_decline",
    "household_invite",
    "household_leave",
    "household_points_refund",
    "household_points_spend",
    "household_tiers_evaluate",
    "ledger_credit",
    "ledger_debit",
    "lock_household",
    "lock_members",
    "member_anonymize",
    "member_consent_set",
    "member_data_export",
    "member_enroll",
    "member_enroll_once",
    "member_erase",
    "member_nps_set",
    "member_profile_change",
    "member_set_status",
    "member_update",
    "new_code",
    "normalize_email",
    "plan_cancel",
    "plan_payment_record",
    "plan_renew",
    "plan_subscribe",
    "points_adjust",
    "points_adjust_approval_above",
    "points_adjust_approve",
    "points_adjust_limit",
    "points_adjust_reject",
    "points_adjust_request",
    "points_engage",
    "points_expire_due",
    "points_expiry_notify",
    "points_grant",
    "points_order_place",
    "points_order_settle",
    "points_price_quote",
    "points_refund",
    "points_release_pending",
    "points_sale_refund",
    "points_sell",
    "points_spend",
    "points_transfer",
    "purchase_amounts_check",
    "purchase_items_check",
    "purchase_quote",
    "purchase_record",
    "purchase_reverse",
    "purchase_simulate",
    "receipt_claim",
    "receipt_record",
    "revision_changes",
    "revision_part_register",
    "rule_revision_capture",
    "rule_revision_draft_create",
    "rule_revision_draft_update",
    "rule_revision_publish",
    "rule_revision_schedule",
    "rule_revision_simulate",
    "rule_revision_unschedule",
    "rule_revisions_publish_due",
    "subscriptions_expire",
    "tier_assign",
    "tiers_review",
]
