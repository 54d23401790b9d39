"""Rules apply to what arrives after the rules app is installed; the past is for the dry run.

Without this, the first catch-up would run every rule over years of responses and open cases for
them. The cursors start at the newest response and feedback record of the day of installation.
"""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def start_cursors(apps, schema_editor):
    Cursor = apps.get_model("rules", "EvaluationCursor")
    for kind, (app, model) in {
        "response": ("responses", "Response"),
        "feedback": ("feedback", "FeedbackRecord"),
    }.items():
        newest = apps.get_model(app, model).objects.aggregate(m=Max("id"))["m"] or 0
        Cursor.objects.update_or_create(
            kind=kind,
            defaults={"evaluated_through": newest, "seen_through": newest, "updated_at": timezone.now()},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("responses", "0001_initial"),
        ("feedback", "0001_initial"),
    ]

    operations = [migrations.RunPython(start_cursors, migrations.RunPython.noop)]
