import django.db.models.deletion
from django.db import migrations, models

from core.partitions import PartitionByMonth

LEDGER_FK = dict(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="members.ledgerentry", db_constraint=False)


class Migration(migrations.Migration):
    """Monthly partitions of the append-only tables on PostgreSQL (core.partitions); SQLite keeps
    plain tables. Foreign keys to partitioned tables lose their database constraint first."""

    dependencies = [
        ("members", "0028_households"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="eventhandling", name="event_handled_once"),
        migrations.AddField(
            model_name="eventhandling", name="event_occurred_at", field=models.DateTimeField(null=True)
        ),
        migrations.RunSQL(
            "UPDATE members_eventhandling SET event_occurred_at ="
            " (SELECT occurred_at FROM members_event WHERE members_event.id = members_eventhandling.event_id)",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(model_name="eventhandling", name="event_occurred_at", field=models.DateTimeField()),
        migrations.AlterField(
            model_name="eventhandling",
            name="event",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="handlings", to="members.event"
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="event",
            field=models.ForeignKey(
                blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="members.event"
            ),
        ),
        migrations.AlterField(model_name="customevent", name="entry", field=models.OneToOneField(blank=True, null=True, **LEDGER_FK)),
        migrations.AlterField(model_name="engagementaction", name="entry", field=models.OneToOneField(blank=True, null=True, **LEDGER_FK)),
        migrations.AlterField(model_name="pendingadjustment", name="entry", field=models.OneToOneField(blank=True, null=True, **LEDGER_FK)),
        migrations.AlterField(
            model_name="pointlot", name="entry", field=models.OneToOneField(**{**LEDGER_FK, "related_name": "lot"})
        ),
        migrations.AlterField(model_name="pointstransfer", name="received_entry", field=models.OneToOneField(**LEDGER_FK)),
        migrations.AlterField(model_name="pointstransfer", name="sent_entry", field=models.OneToOneField(**LEDGER_FK)),
        migrations.AddConstraint(
            model_name="eventhandling",
            constraint=models.UniqueConstraint(fields=("event", "handler", "event_occurred_at"), name="event_handled_once"),
        ),
        PartitionByMonth(table="members_ledgerentry", column="created_at"),
        PartitionByMonth(table="members_auditentry", column="at"),
        PartitionByMonth(table="members_event", column="occurred_at"),
        PartitionByMonth(table="members_eventhandling", column="event_occurred_at"),
        PartitionByMonth(table="members_webhookdelivery", column="created_at", guard=("endpoint_id", "event_id")),
        # A key is the partner's for 24 hours (members.partners.services.IDEMPOTENCY_KEEP), then free again.
        PartitionByMonth(
            table="members_idempotencykey", column="created_at", guard=("partner_id", "key"), guard_expire="24 hours"
        ),
    ]
