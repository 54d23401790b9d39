"""How responses are stored: the indexes the queries need, and answers that go with their response."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from manyi.customers.models import Customer
from manyi.integrations.importing import import_file
from manyi.responses.models import Answer, Response
from tests.importing.test_import import row, write_csv


@pytest.mark.django_db
def test_deleting_a_response_deletes_its_answers_without_a_database_constraint(
    org: Any, tmp_path: Path
) -> None:
    import_file("responses", write_csv(tmp_path / "r.csv", [row("D1"), row("D2")]))
    gone, keep = Response.objects.order_by("id")
    assert Answer.objects.filter(response=gone).count() > 0
    gone.delete()
    assert not Answer.objects.filter(response_id=gone.pk).exists()
    assert Answer.objects.filter(response=keep).count() > 0


def _plan(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(r) for r in cur.fetchall())


@pytest.mark.django_db
def test_a_customers_responses_are_found_through_the_partial_customer_index(org: Any) -> None:
    customer = Customer.objects.create(external_id="C1", home_unit=org.company)
    qs = Response.objects.filter(customer=customer).only("id")
    sql, params = qs.query.sql_with_params()
    assert "resp_customer" in _plan(sql, list(params))
    sql, params = Response.objects.filter(customer_id__in=[customer.pk, 7]).only("id").query.sql_with_params()
    assert "resp_customer" in _plan(sql, list(params))


@pytest.mark.django_db
def test_responses_keep_one_index_per_query_shape_and_no_redundant_single_column_ones() -> None:
    with connection.cursor() as cur:
        names = {
            name
            for name, info in connection.introspection.get_constraints(cur, Response._meta.db_table).items()
            if info["index"] and not info["primary_key"]
        }
    assert {"resp_unit_time", "resp_survey_time", "resp_customer", "resp_link", "resp_nps_time"} <= names
    assert not [n for n in names if "unit_id_" in n or "survey_id_" in n or "customer_id_" in n]
