"""Writes for feedback, one module per subdomain, re-exported here (`from feedback import services`):

- `invitations`: scheduling (after a purchase or a resolved ticket, relationship waves, manual sends),
  sending with the fatigue rules, reminders, and the signed links that open a survey
- `responses`: the score step, the follow-up answers, and what completing a response sets off
- `tickets`: opening, SLAs, status changes, replies and notes, their emails, escalation
- `erasure`: what feedback forgets when a member is erased

Invitations are rows first (scheduled, with the reason that caused them) and messages second: a
periodic task sends the due ones, so a purchase trigger's delay survives worker restarts, and every
invitation that was not sent says why (skip_reason). Emails that may wait are started by task name
through `core.enqueue`; these modules never import tasks. Import order inside: responses -> tickets.

Where a change goes:

- A new survey kind: `models.py` (its label in `Survey.Kind`) and a migration, `scoring.py` (its
  scale, what the ends mean, whether a low score opens a follow-up ticket), `selectors.py` (its
  published figure, as NPS = % promoters - % detractors) and the dashboard row that shows it
  (`backoffice/dashboard/tables.py`), `demo.py` (one sample survey: the demo shows every kind), and
  the labels' translations (`locale/*/LC_MESSAGES/django.po`). Sending, answering and the survey
  page read the scale from `scoring`.
- A new survey trigger: `Survey.Trigger` (+ migration), and who schedules it: `handlers.py` for an
  event (with `invitations.surveys_schedule_after`), or a periodic job in `invitations.py`.
- A new skip reason: `Invitation.Skip` (+ migration) and `invitations._skip_reason`.
- A new ticket status: `Ticket.Status` (+ migration) and `tickets.TRANSITIONS` (the admin's buttons
  read it).
"""

from feedback.services.erasure import ERASED_TEXT, member_feedback_erase
from feedback.services.invitations import (
    TOKEN_SALT,
    invitation_open,
    invitation_schedule,
    invitation_send,
    invitation_token,
    invitation_url,
    invitations_remind_due,
    invitations_schedule_many,
    invitations_send_due,
    survey_send_manual,
    surveys_relationship_schedule,
    surveys_schedule_after,
)
from feedback.services.responses import follow_up_subject, response_finish, response_score
from feedback.services.tickets import (
    ACKNOWLEDGE_DEFAULT_HOURS,
    EMAIL_GIVE_UP_AFTER,
    EMAIL_RETRY_AFTER,
    SLA_DEFAULT_HOURS,
    TEAM_LEADS_GROUP,
    TRANSITIONS,
    sla_hours,
    ticket_assignee_email,
    ticket_confirmation_email,
    ticket_customer_message,
    ticket_emails_retry,
    ticket_escalate,
    ticket_open,
    ticket_reply,
    ticket_reply_email,
    ticket_transition,
    ticket_update,
    tickets_escalate_overdue,
)

__all__ = [
    "ACKNOWLEDGE_DEFAULT_HOURS",
    "EMAIL_GIVE_UP_AFTER",
    "EMAIL_RETRY_AFTER",
    "ERASED_TEXT",
    "SLA_DEFAULT_HOURS",
    "TEAM_LEADS_GROUP",
    "TOKEN_SALT",
    "TRANSITIONS",
    "follow_up_subject",
    "invitation_open",
    "invitation_schedule",
    "invitation_send",
    "invitation_token",
    "invitation_url",
    "invitations_remind_due",
    "invitations_schedule_many",
    "invitations_send_due",
    "member_feedback_erase",
    "response_finish",
    "response_score",
    "sla_hours",
    "survey_send_manual",
    "surveys_relationship_schedule",
    "surveys_schedule_after",
    "ticket_assignee_email",
    "ticket_confirmation_email",
    "ticket_customer_message",
    "ticket_emails_retry",
    "ticket_escalate",
    "ticket_open",
    "ticket_reply",
    "ticket_reply_email",
    "ticket_transition",
    "ticket_update",
    "tickets_escalate_overdue",
]
