"""The steady-increase line each weekly row was compared with (the previous 4 weeks' mean
delegated hours, unrounded), kept for the dashboard; not in the API row.

Nullable, without a default: PostgreSQL adds the column without rewriting the table. Rows rolled
up before it stay null (the dashboard then takes the mean from the stored rows before them)
until their week is rolled up again.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kpis", "0003_organization_index_led_by_composites"),
    ]

    operations = [
        migrations.AddField(
            model_name="weeklykpi",
            name="delegated_hours_previous_mean",
            field=models.DecimalField(decimal_places=4, max_digits=11, null=True),
        ),
    ]
