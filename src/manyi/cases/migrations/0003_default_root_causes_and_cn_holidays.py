"""Data: the default two-level root-cause taxonomy and the 2025–2026 Chinese public holidays."""

from django.db import migrations


def load(apps, schema_editor):
    from manyi.cases.defaults import load_holidays, load_root_causes

    load_root_causes(apps.get_model("cases", "RootCause"))
    load_holidays(apps.get_model("cases", "Holiday"))


def unload(apps, schema_editor):
    apps.get_model("cases", "Holiday").objects.filter(region="CN", date__year__in=[2025, 2026]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_sla_calendars_taxonomy_events_escalations")]

    operations = [migrations.RunPython(load, unload)]
