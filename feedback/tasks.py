"""Thin Celery wrappers around feedback's services: each trigger, sender and escalation is a task."""

import logging

from celery import shared_task

from feedback import services
from feedback.models import Survey, Ticket, TicketMessage

logger = logging.getLogger(__name__)


@shared_task
def invitations_send_due() -> dict:
    return services.invitations_send_due()


@shared_task
def invitations_remind_due() -> int:
    return services.invitations_remind_due()


@shared_task
def surveys_relationship_schedule() -> int:
    return services.surveys_relationship_schedule()


@shared_task
def survey_send_manual(survey_id: int, member_ids: list[int], reference: str = "") -> dict:
    services.survey_send_manual(survey=Survey.objects.get(pk=survey_id), member_ids=member_ids, reference=reference)
    return services.invitations_send_due()


@shared_task
def tickets_escalate_overdue() -> int:
    return services.tickets_escalate_overdue()


@shared_task
def ticket_emails_retry() -> int:
    return services.ticket_emails_retry()


def _email_with_retry(task, send) -> None:
    try:
        send()
    except OSError as exc:  # mail server unreachable: try again later
        if task.request.is_eager:
            # No broker: a retry would run again at once inside the member's request; the periodic
            # ticket_emails_retry sends it later instead.
            logger.warning("ticket email not sent; ticket_emails_retry will resend it", exc_info=True)
            return
        raise task.retry(exc=exc) from exc


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def ticket_confirmation_send(self, ticket_id: int) -> None:
    ticket = Ticket.objects.select_related("member").filter(pk=ticket_id).first()
    if ticket is not None:
        _email_with_retry(self, lambda: services.ticket_confirmation_email(ticket=ticket))


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def ticket_reply_send(self, message_id: int) -> None:
    message = TicketMessage.objects.select_related("ticket__member").filter(pk=message_id).first()
    if message is not None:
        _email_with_retry(self, lambda: services.ticket_reply_email(message=message))


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def ticket_assignee_notify(self, message_id: int) -> None:
    message = TicketMessage.objects.select_related("ticket__assignee").filter(pk=message_id).first()
    if message is not None:
        _email_with_retry(self, lambda: services.ticket_assignee_email(message=message))
