"""Load the demo program: each app's `demo.seed()` adds its part, in INSTALLED_APPS order."""

import importlib

from django.apps import apps
from django.core import mail
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings


class Command(BaseCommand):
    help = "Create (or top up) a realistic demo program with members, rewards, surveys and campaigns. Idempotent."

    def handle(self, *args, **options):
        lines: list[str] = []
        # The demo's history sends emails (surprises, surveys, campaigns); keep them out of the console
        # so the logins printed below stay visible.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            for app in apps.get_app_configs():
                try:
                    demo = importlib.import_module(f"{app.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app.name}.demo":
                        raise
                    continue
                with transaction.atomic():
                    lines += demo.seed()
            emails = len(mail.outbox)
        for line in lines:
            self.stdout.write(line)
        if emails:
            self.stdout.write(f"({emails} emails of the demo's history were rendered but not printed.)")
