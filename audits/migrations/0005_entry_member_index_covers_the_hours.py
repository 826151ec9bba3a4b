"""A member's entries in time order, with the columns the weekly founder hours read: the
rollup's hours query becomes an index-only scan (issue 11). The new index is built before the
old one is dropped."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0004_organization_index_led_by_composites"),
        ("orgs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="timeentry",
            index=models.Index(
                fields=["organization", "user", "started_at"],
                include=(
                    "ended_at",
                    "handling",
                    "tag_repetitive",
                    "tag_outsourceable",
                    "tag_systemizable",
                    "tag_owner_by_habit",
                ),
                name="entry_member_started",
            ),
        ),
        migrations.RemoveIndex(
            model_name="timeentry",
            name="audits_time_organiz_0b216a_idx",
        ),
    ]
