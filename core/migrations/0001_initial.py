# The outbox moved here from the storefront package; its table keeps its name.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("storefront", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxEmail",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("subject", models.CharField(max_length=500)),
                        ("from_email", models.CharField(max_length=300)),
                        ("to", models.TextField(help_text="Comma-separated recipients")),
                        ("body_text", models.TextField(blank=True)),
                        ("body_html", models.TextField(blank=True)),
                        ("raw", models.BinaryField(help_text="The whole MIME message, attachments included")),
                    ],
                    options={
                        "verbose_name": "sent email",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "storefront_outboxemail",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
