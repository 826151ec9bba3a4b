"""Two entries of one member never overlap, enforced by PostgreSQL itself (SPEC 1).

An exclusion constraint on the entry's time range holds under concurrent requests, which a
read-then-write check in Python cannot. SQLite (the embedded default) has no such
constraint; there its writers are serialized (BEGIN IMMEDIATE), so the service's check holds.
"""

from django.db import migrations

CONSTRAINT = "entry_no_overlap_per_member"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE audits_timeentry ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist ("
        " organization_id WITH =, user_id WITH =,"
        " tstzrange(started_at, ended_at, '[)') WITH &&)"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE audits_timeentry DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]
    operations = [migrations.RunPython(add_constraint, drop_constraint)]
