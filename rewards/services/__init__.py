"""Writes for rewards, one module per subdomain, re-exported here (`from rewards import services`):

- `redemptions`: redeeming with points, giving a reward for free, cancelling; the stock and the
  `reward.redeemed` event
- `vouchers`: codes, issuing a redemption's voucher, validating and consuming it at a partner,
  expiry, importing codes generated elsewhere
- `burn`: points paying part of an order at checkout (quote, confirm, cancel, lapse)
- `surprises`: rewards given by staff or by rules (Nth purchase, comeback, anniversary, enrollment)
  and their email
- `challenges`: challenge progress from purchases, engagement and referrals; points and badges

Public signatures used by the partner API and the member pages:

- `reward_redeem(*, member, reward, partner=None) -> Redemption`
- `redemption_cancel(*, redemption, reason="", created_by=None) -> Redemption`
- `voucher_validate(*, code, partner, order_total=None) -> Voucher`
- `voucher_consume(*, code, partner, order_reference, order_total) -> Voucher`
- `burn_quote(*, member, partner, order_total, points=None, order_reference="") -> BurnHold`
- `burn_confirm(*, token, partner, order_reference="") -> BurnHold`
- `burn_cancel(*, token, partner) -> BurnHold`
- `surprise_grant(*, member, reward, message, created_by=None) -> Redemption`

Every refusal is a `DomainError` with a stable code. Points move only through `members.services`.
Lock order, everywhere: reward row (when it is locked), then member row. Work after commit (the
surprise email) is started by task name through `core.enqueue`; these modules never import tasks.

Where a change goes:

- A new reward kind: `models.py` (its label in `Reward.Kind`; a CHECK in `Reward.Meta` if it needs a
  field, as a percentage discount needs its percent; `KINDS_WITHOUT_VOUCHER` if it is done at
  redemption, like a donation), a migration (`makemigrations`: the field's choices), `demo.py` (one
  sample: the demo shows every kind), and its label's translations (`locale/*/LC_MESSAGES/django.po`).
  Nothing here, in the admin, the API or the templates: they read `Reward.Kind.choices` and
  `Reward.issues_voucher`. A kind done without a voucher also needs its words in `views.py`: the
  thank-you after `redeem`, and the list on the vouchers page (today: donations, by cause).
- A new surprise trigger: `SurpriseRule.Trigger` (+ migration), `surprises.py` (when it fires; a rule
  fires once per member and occasion), and `handlers.py` when an event sets it off.
- A new challenge metric: `Challenge.Metric` (+ migration), and `challenges.py` (which event moves it;
  `handlers.py` subscribes to that event).
- A new periodic job: the service here, a thin task in `tasks.py`, its entry in `config/settings.py`
  (`CELERY_BEAT_SCHEDULE`).
"""

from rewards.services.burn import BURN_HOLD_MINUTES, burn_cancel, burn_confirm, burn_holds_lapse, burn_quote, burn_value
from rewards.services.challenges import (
    ENGAGEMENT_METRICS,
    challenge_progress_add,
    challenge_progress_on_engagement,
    challenge_progress_on_purchase,
    challenge_progress_on_referral,
    challenge_progress_on_refund,
)
from rewards.services.redemptions import (
    redemption_cancel,
    reward_grant,
    reward_prices_apply,
    reward_redeem,
    reward_viewed,
)
from rewards.services.surprises import (
    GrantResult,
    surprise_email_send,
    surprise_grant,
    surprise_grant_many,
    surprises_anniversaries,
    surprises_on_enrollment,
    surprises_on_purchase,
    surprises_withdraw_for_refund,
)
from rewards.services.vouchers import (
    VOUCHER_CODE_LENGTH,
    voucher_code_display,
    voucher_code_new,
    voucher_code_normalize,
    voucher_codes_import,
    voucher_consume,
    voucher_issue,
    voucher_validate,
    vouchers_expire,
)

__all__ = [
    "BURN_HOLD_MINUTES",
    "ENGAGEMENT_METRICS",
    "VOUCHER_CODE_LENGTH",
    "GrantResult",
    "burn_cancel",
    "burn_confirm",
    "burn_holds_lapse",
    "burn_quote",
    "burn_value",
    "challenge_progress_add",
    "challenge_progress_on_engagement",
    "challenge_progress_on_purchase",
    "challenge_progress_on_referral",
    "challenge_progress_on_refund",
    "redemption_cancel",
    "reward_grant",
    "reward_prices_apply",
    "reward_redeem",
    "reward_viewed",
    "surprise_email_send",
    "surprise_grant",
    "surprise_grant_many",
    "surprises_anniversaries",
    "surprises_on_enrollment",
    "surprises_on_purchase",
    "surprises_withdraw_for_refund",
    "voucher_code_display",
    "voucher_code_new",
    "voucher_code_normalize",
    "voucher_codes_import",
    "voucher_consume",
    "voucher_issue",
    "voucher_validate",
    "vouchers_expire",
]
