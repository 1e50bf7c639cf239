"""Thin Celery wrappers around partner settlement's services."""

from celery import shared_task

from coalition import services


@shared_task
def settlements_close_due() -> int:
    return services.settlements_close_due()
