"""Thin Celery wrappers around the back office's periodic work."""

from celery import shared_task

from backoffice.dashboard import dashboard_summaries_refresh as summaries_refresh


@shared_task
def dashboard_summaries_refresh() -> int:
    return summaries_refresh()
