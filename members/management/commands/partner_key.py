"""Create an API key for an existing partner and print it once (onboarding, scripts)."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from members.models import Partner
from members.partners import services


class Command(BaseCommand):
    help = 'Create a partner API key and print it once: manage.py partner_key "<partner name>" [--program slug]'

    def add_arguments(self, parser):
        parser.add_argument("partner", help="The partner's name, as in admin.")
        parser.add_argument("--program", help="Program slug, when partners of several programs share the name.")
        parser.add_argument("--name", default="manage.py partner_key", help="A label for the key (shown in admin).")
        parser.add_argument("--rate", default="", help="Rate limit for this key, e.g. 600/min (default: the global).")

    def handle(self, *args, **options):
        partners = Partner.objects.select_related("program").filter(name=options["partner"])
        if options["program"]:
            partners = partners.filter(program__slug=options["program"])
        found = list(partners)
        if not found:
            raise CommandError(f"No partner named '{options['partner']}'.")
        if len(found) > 1:
            slugs = ", ".join(p.program.slug for p in found)
            raise CommandError(f"Several partners have this name; add --program (one of: {slugs}).")
        try:
            api_key, key = services.partner_key_create(
                partner=found[0], name=options["name"], rate_limit=options["rate"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Key {api_key.prefix} for '{found[0].name}' ({found[0].program.name}); shown only once:")
        self.stdout.write(key)
