# OutboxEmail now belongs to the `core` app (same table): forget it here, keep the table.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("storefront", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboxEmail")],
            database_operations=[],
        ),
    ]
