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
        ("kpis", "0002_interruption_breakdown"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
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
                    'DROP INDEX IF EXISTS "kpis_ticket_organization_id_9f08926c"',
                    reverse_sql='CREATE INDEX "kpis_ticket_organization_id_9f08926c" ON "kpis_ticket" ("organization_id")',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="weeklykpi",
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
                    'DROP INDEX IF EXISTS "kpis_weeklykpi_organization_id_e2e28e89"',
                    reverse_sql='CREATE INDEX "kpis_weeklykpi_organization_id_e2e28e89" ON "kpis_weeklykpi" ("organization_id")',
                ),
            ],
        ),
    ]
