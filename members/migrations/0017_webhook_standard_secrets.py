"""Webhook secrets in the Standard Webhooks form ("whsec_" + base64 of the key bytes).

Before, the key was the secret's text itself ("whsec_" included), which a Standard Webhooks library
decodes into other bytes. Each existing secret is re-encoded so that its key bytes stay what they
were: the text the partner holds. X-Fidelis-Signature is computed with those same bytes, so a
receiver checking it with its old secret keeps working; the re-encoded secret (shown in admin and
the API) is what a Standard Webhooks library takes.
"""

import base64

from django.db import migrations, models

PREFIX = "whsec_"


def reencode(apps, schema_editor):
    WebhookEndpoint = apps.get_model("members", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.only("pk", "secret").iterator():
        encoded = PREFIX + base64.b64encode(endpoint.secret.encode()).decode()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=encoded)


def decode(apps, schema_editor):
    """Back to the text form for the secrets this migration encoded (their key bytes are printable
    text); secrets generated since keep the new form (they are random bytes)."""
    WebhookEndpoint = apps.get_model("members", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.only("pk", "secret").iterator():
        try:
            text = base64.b64decode(endpoint.secret.removeprefix(PREFIX), validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            continue
        if text.isprintable() and len(text) <= 80:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=text)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0016_member_search_trigram"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=models.CharField(
                help_text="whsec_ followed by the base64 of the signing key (Standard Webhooks).", max_length=120
            ),
        ),
        migrations.RunPython(reencode, decode, elidable=False),
    ]
