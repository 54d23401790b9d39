"""Indexes for sorting the responses table by a column (see ``manyi.console.responses_queries``).

The table walks the responses one value of the sorted column at a time, newest first inside each
value, so each sortable column needs an index that starts with it and goes on with
``submitted_at``. ``unit`` and ``survey`` have theirs on the response model (``resp_unit_time``,
``resp_survey_time``); these are the ones for the headline scores, the channel and the language.
They belong to the console's table, so they are created here, on the responses app's table, with
plain SQL that SQLite and PostgreSQL both accept.
"""

from django.db import migrations

TABLE = "responses_response"
INDEXES = {
    "resp_nps_time": "nps",
    "resp_csat_time": "csat",
    "resp_ces_time": "ces",
    "resp_channel_time": "channel",
    "resp_language_time": "language",
}


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_staff_preferences"),
        ("responses", "0002_answer_drop_redundant_response_index"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({column}, submitted_at)",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, column in INDEXES.items()
    ]
