"""Phones to E.164, each read in its program's default region (PHONE_DEFAULT_REGION when the field
is added). A phone that does not parse as a valid number is blanked (the member has no phone: no SMS,
no phone match) and recorded in the audit trail as "member.phone_cleared" by member number, without
the old value (the trail holds no personal data). Export members before migrating to keep the text.
"""

import phonenumbers
from django.conf import settings
from django.db import migrations, models

import members.phones

BATCH = 1000


def _e164(raw: str, region: str) -> str:
    """Frozen here (not members.phones.phone_e164) so this migration keeps doing what it did."""
    try:
        number = phonenumbers.parse(raw.strip(), (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_normalise(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    AuditEntry = apps.get_model("members", "AuditEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = (
        Member.objects.exclude(phone="")
        .select_related("program")
        .only("pk", "number", "phone", "program__default_region")
        .order_by("pk")
    )
    changed, cleared = [], []
    for member in rows.iterator(chunk_size=BATCH):
        e164 = _e164(member.phone, member.program.default_region)
        if e164 != member.phone:
            if not e164:
                cleared.append(member)
            member.phone = e164
            changed.append(member)
    Member.objects.bulk_update(changed, ["phone"], batch_size=BATCH)
    if cleared:
        member_type, _ = ContentType.objects.get_or_create(app_label="members", model="member")
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    action="member.phone_cleared",
                    target_type=member_type,
                    target_id=str(member.pk),
                    target_repr=f"member {member.number}",
                    changes={"phone": ["(not a valid number)", ""]},
                    reason="Migration members 0010: the phone did not parse as a valid number in the "
                    "program's region; ask the member for it again.",
                )
                for member in cleared
            ],
            batch_size=BATCH,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0013_purchase_ceilings'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='program',
            name='default_region',
            field=models.CharField(blank=True, default=members.phones.phone_region_default, help_text='Country whose numbers members may type without the country code (e.g. RO: 0721 000 111). Empty: only international numbers (+40 ...).', max_length=2, validators=[members.phones.validate_region], verbose_name='phone region'),
        ),
        migrations.AlterField(
            model_name='member',
            name='phone',
            field=models.CharField(blank=True, help_text='In international format; stored as +40721000111 (E.164).', max_length=20),
        ),
        migrations.RunPython(phones_normalise, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name='member',
            constraint=models.CheckConstraint(condition=models.Q(('phone', ''), ('phone__startswith', '+'), _connector='OR'), name='member_phone_e164'),
        ),
    ]
