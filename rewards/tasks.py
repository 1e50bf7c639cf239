"""Thin Celery wrappers around rewards' services."""

from celery import shared_task

from rewards import services


@shared_task
def vouchers_expire() -> int:
    return services.vouchers_expire()


@shared_task
def burn_holds_lapse() -> int:
    return services.burn_holds_lapse()


@shared_task
def surprises_anniversaries() -> int:
    return services.surprises_anniversaries()


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def surprise_notify(self, redemption_id: int) -> bool:
    try:
        return services.surprise_email_send(redemption_id=redemption_id)
    except OSError as exc:  # SMTP down: try again later
        raise self.retry(exc=exc) from exc
