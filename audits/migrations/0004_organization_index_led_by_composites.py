"""The organization column's own index dropped where every index and unique constraint of the
table leads with it (``msp_ops.orgs.scoping.leading_organization``).

Only the index: ``AlterField`` alone would drop and add the foreign key again, which checks
every row of the table under a lock; ``DROP INDEX`` is instant. The index names are Django's
(the same on SQLite and PostgreSQL).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0003_entry_notes_length"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="timeentry",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="orgs.organization",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "audits_timeentry_organization_id_db51ca6b"',
                    reverse_sql='CREATE INDEX "audits_timeentry_organization_id_db51ca6b" ON "audits_timeentry" ("organization_id")',
                ),
            ],
        ),
    ]
