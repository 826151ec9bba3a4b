"""Every change to a category gives its organization a new ``categories_version`` (PostgreSQL).

The new number comes from a sequence, so no number is ever given twice, not even after a
rolled-back transaction: a worker that kept the categories of a number it saw inside such a
transaction never takes them for those of a later change. A trigger, so that no way of writing a category (the ORM, a queryset's ``update()``, the admin,
raw SQL, ``psql``) can leave an API worker's kept categories looking current: the next API
write of that organization reads them again (``audits.selectors.current_categories``). SQLite,
the embedded default, reads them on every write instead and has no trigger.
"""

from django.db import migrations

SEQUENCE = "orgs_organization_categories_version_seq"
FUNCTION = "audits_category_raise_version"
TRIGGER = "audits_category_raise_version"
TRUNCATE_FUNCTION = TRUNCATE_TRIGGER = "audits_category_truncate_raises_versions"


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE}")
    schema_editor.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f"  UPDATE orgs_organization SET categories_version = nextval('{SEQUENCE}')"
        "   WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;"
        "  IF TG_OP = 'UPDATE' AND OLD.organization_id <> NEW.organization_id THEN"
        f"   UPDATE orgs_organization SET categories_version = nextval('{SEQUENCE}')"
        "    WHERE id = OLD.organization_id;"
        "  END IF;"
        "  RETURN NULL;"
        " END $$"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON audits_category"
        f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )
    # TRUNCATE fires no row trigger: every organization gets a new number then.
    schema_editor.execute(
        f"CREATE FUNCTION {TRUNCATE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN UPDATE orgs_organization SET categories_version = nextval('{SEQUENCE}'); RETURN NULL; END $$"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE ON audits_category"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_FUNCTION}()"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON audits_category")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {TRUNCATE_FUNCTION}()")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON audits_category")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0005_entry_member_index_covers_the_hours"),
        ("orgs", "0002_organization_categories_version"),
    ]
    operations = [migrations.RunPython(add_trigger, drop_trigger)]
