"""Admin of the members app, one module per subdomain; importing this package (Django's admin
autodiscovery does) registers them all.

- programs.py: programs and tiers, partners, earning rules and the simulator, paid plans, subscriptions
- members.py: members with their inlines, CSV import/export and actions
- cards.py: loyalty cards (block, replace) and the member page's cards inline
- households.py: households with their members and invitations (read-only)
- ledger.py: what happened, read-only (ledger, purchases, events, audit trail, reconciliation)
- review.py: the fraud review queue
- money.py: exchange rates (CSV import), points prices and sales, opening-balance imports
- revisions.py: rule revisions (history, drafts, simulation, scheduling, publishing) and the mixin
  that records a revision when live rules are edited
- partners.py: partner API keys, idempotency keys, webhook endpoints and deliveries
- forms.py: the forms those use; base.py: the action-form page and the read-only admin

Declarative; every write that touches members or points goes through members' services. Large
tables (members, ledger, purchases, events) use list_select_related and no full counts.
To add a member action: a form in forms.py if it asks for input, then an @admin.action on
MemberAdmin that shows it with base.action_form and calls a service.
"""

from members.admin import (  # noqa: F401
    cards,
    households,
    ledger,
    members,
    money,
    partners,
    programs,
    review,
    revisions,
)
