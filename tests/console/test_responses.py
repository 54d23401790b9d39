"""The responses table: keyset paging, filters, the column chooser, the detail page and exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from manyi.console import responses_queries as rq
from manyi.core.models import AuditLogEntry, BulkJob, JobStatus
from manyi.integrations.exporting.tasks import export_task
from manyi.responses.choices import Channel
from manyi.responses.models import Response

from .conftest import A_MARK, C_SECRET, SUBMITTED, World, login, submit


@pytest.fixture(autouse=True)
def _english_messages(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"  # the messages these tests read, whatever the catalogues hold


def ids_on(body: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/responses/(\d+)/"', body)]


@pytest.fixture
def many(world: World) -> list[Response]:
    """30 more responses at store A, one a minute, with one formula-looking comment."""
    out = []
    for i in range(30):
        comment = '=HYPERLINK("http://evil")' if i == 0 else f"comment {i}"
        out.append(
            submit(world.org.link_a, nps=i % 11, comment=comment, now=SUBMITTED + timedelta(minutes=i + 1))
        )
    return out


@pytest.mark.django_db
def test_keyset_pages_walk_every_response_once_newest_first_and_back(world: World, many: Any) -> None:
    client = login(world.org.manager_a)
    url = reverse("console:response_list")
    seen: list[int] = []
    body = client.get(url + "?size=25").content.decode()
    pages = [ids_on(body)]
    while m := re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', body):
        body = client.get(url + "?" + m.group(1).replace("&amp;", "&")).content.decode()
        pages.append(ids_on(body))
    for p in pages:
        seen += p
    expected = list(
        Response.objects.visible_to(world.org.manager_a)
        .order_by("-submitted_at", "-id")
        .values_list("id", flat=True)
    )
    assert seen == expected and len(pages) == 2
    prev = re.search(r'href="\?([^"]*before=[^"]*)" rel="prev"', body)
    assert prev is not None
    back = client.get(url + "?" + prev.group(1).replace("&amp;", "&")).content.decode()
    assert ids_on(back) == pages[0]


@pytest.mark.django_db
def test_oldest_first_is_the_same_rows_reversed(world: World, many: Any) -> None:
    client = login(world.org.admin)
    url = reverse("console:response_list")
    newest = ids_on(client.get(url + "?size=200").content.decode())
    oldest = ids_on(client.get(url + "?size=200&sort=submitted").content.decode())
    assert oldest == list(reversed(newest))


@pytest.mark.django_db
def test_forged_cursors_sizes_and_sorts_give_messages_never_a_500(world: World) -> None:
    client = login(world.org.manager_a)
    url = reverse("console:response_list")
    for query, text in [
        ("?size=1000000", "“size” must be one of"),
        ("?after=abc", "page position"),
        ("?after=99999999999999999999.1", "page position"),
        ("?sort=nps;drop", "Unknown sort"),
        ("?period=custom&from=2026-13-01&to=x", "YYYY-MM-DD"),
        (f"?unit={world.org.store_c.pk}", "not an org unit you can see"),
    ]:
        resp = client.get(url + query)
        body = resp.content.decode()
        assert resp.status_code == 200, query
        assert text in body, query
        assert C_SECRET not in body


@pytest.mark.django_db
def test_drill_down_filters_narrow_the_table(world: World, many: Any) -> None:
    client = login(world.org.manager_a)
    url = reverse("console:response_list")
    body = client.get(
        url + "?period=custom&from=2026-01-01&to=2026-01-31&bucket=promoter&size=200"
    ).content.decode()
    shown = ids_on(body)
    expected = set(
        Response.objects.visible_to(world.org.manager_a).filter(nps__gte=9).values_list("id", flat=True)
    )
    assert set(shown) == expected and shown
    assert 'name="bucket" value="promoter"' in body


@pytest.mark.django_db
def test_the_column_chooser_is_kept_per_staff_member(world: World) -> None:
    client = login(world.org.manager_a)
    resp = client.post(reverse("console:response_columns"), {"columns": ["customer", "case", "nps"]})
    assert resp.status_code == 303
    body = client.get(reverse("console:response_list")).content.decode()
    assert f"顾客 {A_MARK}" in body and 'class="badge status-' in body
    assert rq.chosen_columns(world.org.manager_a) == ["customer", "nps", "case"]
    assert rq.chosen_columns(world.org.admin) == list(rq.DEFAULT_COLUMNS)
    resp = client.post(reverse("console:response_columns"), {"columns": ["password"]})
    assert resp.status_code == 400 and "Unknown column" in resp.content.decode()


@pytest.mark.django_db
def test_a_visiting_customer_of_another_store_is_not_named_in_the_table(world: World) -> None:
    client = login(world.org.manager_a)
    client.post(reverse("console:response_columns"), {"columns": ["customer", "comment"]})
    body = client.get(reverse("console:response_list")).content.decode()
    assert "visiting customer" in body and C_SECRET not in body


@pytest.mark.django_db
def test_the_detail_page_marks_the_aspects_of_the_comment(world: World) -> None:
    r = submit(world.org.link_a, nps=3, comment="菜很好吃，但是等了一个小时")
    body = login(world.org.admin).get(reverse("console:response_detail", args=[r.pk])).content.decode()
    assert '<mark class="aspect neg"' in body and "等了一个小时" in body
    assert "?aspect=" in body


def test_reading_a_comment_keeps_every_character_in_order() -> None:
    text = "Staff were rude, but the food was great. 等了很久。"
    reading = rq.read_comment(text, "en")
    assert "".join(p.text for p in reading.parts) == text
    assert any(p.aspects for p in reading.parts)
    assert rq.read_comment("   ", "en").parts == []


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_filtered_set_exports_as_csv_masked_audited_and_formula_safe(world: World, many: Any) -> None:
    client = login(world.org.manager_a)
    resp = client.get(reverse("console:response_export") + "?format=csv&bucket=detractor")
    assert resp.status_code == 200 and resp.streaming
    rows = read_csv(b"".join(resp.streaming_content))  # type: ignore[attr-defined]
    header, body = rows[0], rows[1:]
    expected = Response.objects.visible_to(world.org.manager_a).filter(nps__lte=6).count()
    assert len(body) == expected
    text = "\n".join(",".join(r) for r in rows)
    assert f"顾客 {A_MARK}" not in text and "顾**" in text  # masked
    assert "'=HYPERLINK" in text and C_SECRET not in text
    entry = AuditLogEntry.objects.filter(action="export", user=world.org.manager_a).latest("id")
    assert entry.details["filters"]["console"]["bucket"] == "detractor"
    assert header[0] == "id"


@pytest.mark.django_db
def test_xlsx_export_has_english_labels_when_the_page_is_in_english(world: World, settings: Any) -> None:
    from python_calamine import CalamineWorkbook

    client = login(world.org.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = client.get(reverse("console:response_export") + "?format=xlsx", headers={"accept-language": "en"})
    assert resp.status_code == 200
    data = b"".join(resp.streaming_content)  # type: ignore[attr-defined]
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert "org unit" in sheet[0] and len(sheet) == 1 + Response.objects.count()


@pytest.mark.django_db
def test_a_store_manager_may_not_export_personal_data(world: World) -> None:
    client = login(world.org.manager_a)
    resp = client.get(reverse("console:response_export") + "?format=csv&pii=1")
    assert resp.status_code == 403
    resp = client.get(reverse("console:response_export") + "?format=pdf")
    assert resp.status_code == 400 and "format" in resp.content.decode()


@pytest.mark.django_db
def test_a_big_export_runs_as_a_job_whose_page_ends_with_a_download(
    world: World, many: Any, settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from manyi.console import responses_views

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(responses_views, "DIRECT_EXPORT_MAX", 5)
    client = login(world.org.manager_a)
    resp = client.get(reverse("console:response_export") + "?format=csv&period=all")
    assert resp.status_code == 303
    job = BulkJob.objects.get()
    assert resp["Location"] == reverse("console:job_detail", args=[job.pk])
    page = client.get(resp["Location"]).content.decode()
    assert "every 1s" in page  # polling while it waits
    export_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    page = client.get(reverse("console:job_progress", args=[job.pk])).content.decode()
    assert "every 1s" not in page and reverse("console:job_download", args=[job.pk]) in page
    download = client.get(reverse("console:job_download", args=[job.pk]))
    rows = read_csv(b"".join(download.streaming_content))  # type: ignore[attr-defined]
    assert len(rows) - 1 == Response.objects.visible_to(world.org.manager_a).count()
    other = login(world.org.manager_c)
    assert other.get(reverse("console:job_download", args=[job.pk])).status_code == 404


def test_cursors_round_trip_to_the_microsecond() -> None:
    when = datetime(2026, 1, 5, 4, 0, 0, 123456, tzinfo=UTC)
    r = Response(pk=42, submitted_at=when)
    assert rq.parse_cursor(rq.make_cursor(r)) == (when, 42)
    assert rq.parse_cursor("1.2.3") is None and rq.parse_cursor("") is None


@pytest.mark.django_db
def test_case_and_feedback_exports_do_not_name_a_visiting_customer_of_another_store(world: World) -> None:
    from manyi.cases.models import Case
    from manyi.feedback.models import FeedbackRecord
    from manyi.integrations.exporting import csv_chunks

    org, c = world.org, world.c
    Case.objects.create(unit=org.store_a, customer=c.customer, title="visit", created_at=SUBMITTED)
    FeedbackRecord.objects.create(
        unit=org.store_a,
        customer=c.customer,
        channel="phone",
        occurred_at=SUBMITTED,
        text="visiting complaint",
    )
    for kind in ("cases", "feedback"):
        text = "".join(csv_chunks(kind, user=org.manager_a))
        assert C_SECRET not in text, kind
        assert A_MARK in text or "visiting complaint" in text, kind
    admin_text = "".join(csv_chunks("cases", user=org.admin))
    assert C_SECRET in admin_text  # the company admin may see store C's customer


def _walk(client: Any, first_url: str) -> tuple[list[list[int]], str]:
    """Every page from ``first_url`` by the Next links; the pages' ids and the last page's body."""
    body = client.get(first_url).content.decode()
    pages = [ids_on(body)]
    while m := re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', body):
        body = client.get(
            reverse("console:response_list") + "?" + m.group(1).replace("&amp;", "&")
        ).content.decode()
        pages.append(ids_on(body))
        assert len(pages) < 50
    return pages, body


def _expected_order(user: Any, sort: str) -> list[int]:
    column, desc = sort.lstrip("-"), sort.startswith("-")
    rows = list(Response.objects.visible_to(user).select_related("unit", "survey"))
    rows.sort(key=lambda r: (-r.submitted_at.timestamp(), -r.pk))  # newest first inside a group
    if column in ("unit", "survey"):
        rows.sort(
            key=lambda r: (getattr(r, column).display_name("en").casefold(), getattr(r, column).pk),
            reverse=desc,
        )
    elif column == "channel":
        with translation.override("en"):
            labels = {v: str(label).casefold() for v, label in Channel.choices}
        rows.sort(key=lambda r: labels[r.channel], reverse=desc)
    else:
        present = [r for r in rows if getattr(r, column) is not None]
        present.sort(key=lambda r: getattr(r, column), reverse=desc)
        rows = present + [r for r in rows if getattr(r, column) is None]
    return [r.pk for r in rows]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sort", ["nps", "-nps", "csat", "-ces", "unit", "-unit", "survey", "channel", "-language"]
)
def test_sorting_by_a_column_walks_every_response_once_in_that_order_and_back(
    world: World, many: Any, sort: str
) -> None:
    user = world.org.admin
    client = login(user)
    url = reverse("console:response_list")
    pages, body = _walk(client, f"{url}?size=25&sort={sort}")
    assert [i for p in pages for i in p] == _expected_order(user, sort)
    assert len(pages) >= 2
    prev = re.search(r'href="\?([^"]*before=[^"]*)" rel="prev"', body)
    assert prev is not None
    back = client.get(url + "?" + prev.group(1).replace("&amp;", "&")).content.decode()
    assert ids_on(back) == pages[-2]


@pytest.mark.django_db
def test_a_store_manager_sorting_by_unit_sees_only_their_store_and_a_forged_group_cursor_is_refused(
    world: World, many: Any
) -> None:
    client = login(world.org.manager_a)
    url = reverse("console:response_list")
    pages, _body = _walk(client, f"{url}?size=25&sort=unit")
    assert [i for p in pages for i in p] == _expected_order(world.org.manager_a, "unit")
    other = world.org.store_c.pk
    resp = client.get(f"{url}?size=25&sort=unit&after={other}.1700000000000000.999999")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "page position" in body and C_SECRET not in body
    assert ids_on(body) == pages[0]
    for forged in ("nps;1.2.3", "x" * 40 + ".1.1", "5.abc.1"):
        resp = client.get(f"{url}?sort=nps&after={forged}")
        assert resp.status_code == 200 and "page position" in resp.content.decode()


@pytest.mark.django_db
def test_column_headers_link_to_sorting_by_them_and_mark_the_current_order(world: World, many: Any) -> None:
    client = login(world.org.admin)
    body = client.get(reverse("console:response_list") + "?sort=nps").content.decode()
    assert 'aria-sort="ascending"' in body
    assert "sort=-nps" in body  # the NPS header now offers the other direction
    assert "sort=unit" in body
