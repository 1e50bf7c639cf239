import django.db.models.deletion
from django.db import migrations, models

from core.partitions import PartitionByMonth


class Migration(migrations.Migration):
    """Campaign deliveries partitioned by month on PostgreSQL (core.partitions); (campaign, member,
    occurrence) stays unique through the guard table."""

    dependencies = [
        ("campaigns", "0004_delivery_batch_and_provider_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offergrant",
            name="delivery",
            field=models.OneToOneField(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="grant", to="campaigns.delivery"
            ),
        ),
        PartitionByMonth(
            table="campaigns_delivery", column="created_at", guard=("campaign_id", "member_id", "occurrence")
        ),
    ]
