"""Load the demo program: each app's `demo.seed()` adds its part, in INSTALLED_APPS order."""

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or top up) a realistic demo program with members, rewards, surveys and campaigns. Idempotent."

    def handle(self, *args, **options):
        for app in apps.get_app_configs():
            try:
                demo = importlib.import_module(f"{app.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.demo":
                    raise
                continue
            with transaction.atomic():
                for line in demo.seed():
                    self.stdout.write(line)
