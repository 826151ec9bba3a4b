"""Organizations created before the escalation map get its three levels (SPEC 1)."""

from django.db import migrations

LEVELS = ["L1", "L2", "owner_only"]


def create_maps(apps, schema_editor):
    Organization = apps.get_model("orgs", "Organization")
    EscalationStep = apps.get_model("delegation", "EscalationStep")
    EscalationStep.objects.bulk_create(
        [EscalationStep(organization=org, level=level) for org in Organization.objects.all() for level in LEVELS],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("delegation", "0002_no_overlaps")]

    operations = [migrations.RunPython(create_maps, migrations.RunPython.noop)]
