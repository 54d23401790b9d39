"""Fewer indexes on responses, and no foreign-key constraint from answers to responses.

- ``survey`` and ``unit`` lose their single-column indexes: ``resp_survey_time`` and
  ``resp_unit_time`` start with them.
- ``customer`` and ``link`` are indexed only where they are set (most responses have neither).
- ``Answer.response`` keeps its Django cascade but not the database constraint (see the model).

On the response table the old indexes are dropped by name rather than by altering the fields:
SQLite alters a field by copying the whole table, which is slow on a big table and would lose the
console's sort indexes (created with plain SQL in ``console/0002``).
"""

import django.db.models.deletion
from django.db import migrations, models

OLD_INDEXES = (
    "responses_response_customer_id_87cf22bd",
    "responses_response_link_id_1eb16a3b",
    "responses_response_survey_id_d0cb1fd4",
    "responses_response_unit_id_265da674",
)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("org", "0001_initial"),
        ("responses", "0002_answer_drop_redundant_response_index"),
        ("surveys", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="answer",
            name="response",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="responses.response",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=[f"DROP INDEX IF EXISTS {name}" for name in OLD_INDEXES],
                    reverse_sql=[
                        f"CREATE INDEX IF NOT EXISTS {name} ON responses_response ({name.split('_')[2]}_id)"
                        for name in OLD_INDEXES
                    ],
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="response",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="responses",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="link",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="responses",
                        to="surveys.surveylink",
                    ),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="survey",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="surveys.survey",
                    ),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="unit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="org.orgunit",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("customer__isnull", False)), fields=["customer"], name="resp_customer"
            ),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("link__isnull", False)), fields=["link"], name="resp_link"
            ),
        ),
    ]
