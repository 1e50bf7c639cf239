"""Writes for campaigns, one module per subdomain, re-exported here (`from campaigns import services`):

- `segments`: static segments (freezing a dynamic one, importing a list)
- `preview`: each variant previewed per language exactly as sent, and a test send to a staff address
- `launch`: launching, pausing, starting scheduled runs, resuming runs whose fan-out was lost
- `fanout`: a run's audience into id-range tasks and delivery rows; the daily birthday and win-back
  journeys
- `sending`: claiming and sending deliveries (email, SMS, quiet hours), recording them
- `bulk`: large email runs through a provider's batch API (claim hundreds in one statement, render once
  per variant and language, one call with per-recipient variables under an idempotency key)
- `journeys`: journeys triggered by events, and the abandoned-redemption interest
- `tracking`: what providers report after a send (email bounces and complaints, SMS statuses)
- `results`: campaign results per variant kept as rows while the attribution window is open, then frozen
- `offers`: what each offer kind needs, issuing grants within the budget, redeeming codes, bonus and
  multiplier points on purchases

Exactly-once: every (campaign, member, occurrence) has one Delivery row (unique constraint, rows are
inserted with ignore_conflicts), and a row is claimed (queued -> sending) in its own transaction before
the message leaves, so a re-run task or a crashed worker never sends it twice. Fan-out and sends are
started by task name through `core.enqueue`; these modules never import tasks. Imports inside:
launch -> offers; journeys -> fanout -> sending -> bulk, offers.

Where a change goes:

- A new offer kind: `models.py` (`Offer.Kind`, and a field if it needs one) and a migration,
  `services/offers.py` (what it needs before launch, what issuing a grant does, whether a budget in
  points counts it, what a purchase pays), `templates/campaigns/offers.html` (a code to show, or
  "applied automatically"), `selectors.offer_grant_open` if it stays usable after a first use (like a
  multiplier), and its label's translations (`locale/*/LC_MESSAGES/django.po`).
- A new event-triggered journey: `Campaign.Trigger` (+ migration) and a handler in `handlers.py` that
  calls `journey_trigger` with the occurrence that makes it fire once.
- A new periodic journey (like birthday, win-back): `Campaign.Trigger` (+ migration) and `fanout.py`
  (its audience in `_rows_query`, its occurrence in `_occurrence`, and `journeys_periodic_start`).
- A new channel: `Campaign` and `Variant` fields, `Delivery.Channel` (+ migration), `fanout.deliveries_queue`
  (which channel a member gets), `sending.py` (how it is sent; SMS-like quiet hours in `_claim`),
  `launch._validate`, the admin and the message templates.
"""

from campaigns.services.bulk import deliveries_claim, deliveries_record_sent, emails_send_bulk
from campaigns.services.fanout import (
    MEMBER_FIELDS,
    campaign_chunk,
    campaign_fan_out,
    deliveries_queue,
    journeys_periodic_start,
)
from campaigns.services.journeys import journey_trigger, reward_interest_check, reward_interest_record
from campaigns.services.launch import campaign_launch, campaign_pause, campaigns_resume_stalled, campaigns_run_due
from campaigns.services.offers import (
    offer_budget_left,
    offer_code_check,
    offer_code_consume,
    offer_code_order,
    offer_errors,
    offer_grant_issue,
    offer_grant_redeem,
    offers_apply_to_purchase,
    offers_restore_for_refund,
)
from campaigns.services.preview import campaign_preview, campaign_test_send
from campaigns.services.results import campaign_results_refresh
from campaigns.services.segments import segment_freeze, segment_import_csv
from campaigns.services.sending import SEND_GROUP, deliveries_send_batch, deliveries_send_due
from campaigns.services.tracking import email_event_record, sms_status_record

__all__ = [
    "MEMBER_FIELDS",
    "SEND_GROUP",
    "campaign_chunk",
    "campaign_fan_out",
    "campaign_launch",
    "campaign_pause",
    "campaign_preview",
    "campaign_results_refresh",
    "campaign_test_send",
    "campaigns_resume_stalled",
    "campaigns_run_due",
    "deliveries_claim",
    "deliveries_queue",
    "deliveries_record_sent",
    "deliveries_send_batch",
    "deliveries_send_due",
    "email_event_record",
    "emails_send_bulk",
    "journey_trigger",
    "journeys_periodic_start",
    "offer_budget_left",
    "offer_code_check",
    "offer_code_consume",
    "offer_code_order",
    "offer_errors",
    "offer_grant_issue",
    "offer_grant_redeem",
    "offers_apply_to_purchase",
    "offers_restore_for_refund",
    "reward_interest_check",
    "reward_interest_record",
    "segment_freeze",
    "segment_import_csv",
    "sms_status_record",
]
