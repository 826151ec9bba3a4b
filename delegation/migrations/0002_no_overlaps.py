"""Drills of one organization, and time blocks of one member on one weekday, never overlap:
enforced by PostgreSQL itself, so the rule holds under concurrent requests (SPEC 1). SQLite
(the embedded default) serializes its writers (BEGIN IMMEDIATE): the services' checks hold."""

from django.db import migrations

DRILLS = "drill_no_overlap_per_org"
BLOCKS = "time_block_no_overlap_per_member_day"


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE delegation_drill ADD CONSTRAINT {DRILLS} EXCLUDE USING gist ("
        " organization_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
    )
    # PostgreSQL has no range of times of day; this one makes [start_time, end_time) comparable.
    schema_editor.execute(
        "DO $$ BEGIN CREATE TYPE msp_timerange AS RANGE (subtype = time); "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    schema_editor.execute(
        f"ALTER TABLE delegation_timeblock ADD CONSTRAINT {BLOCKS} EXCLUDE USING gist ("
        " organization_id WITH =, user_id WITH =, weekday WITH =,"
        " msp_timerange(start_time, end_time, '[)') WITH &&)"
    )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE delegation_drill DROP CONSTRAINT IF EXISTS {DRILLS}")
    schema_editor.execute(f"ALTER TABLE delegation_timeblock DROP CONSTRAINT IF EXISTS {BLOCKS}")


class Migration(migrations.Migration):
    dependencies = [("delegation", "0001_initial"), ("audits", "0002_entry_no_overlap")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
