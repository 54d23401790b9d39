"""The survey builder: drafts, questions in two languages, display logic, preview, publish, links."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from manyi.console.qrsheet import QrSheetUnavailable, qr_sheet_pdf
from manyi.core.models import AuditLogEntry
from manyi.customers.models import Customer
from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.surveys.choices import LinkKind, VersionStatus
from manyi.surveys.models import Survey, SurveyLink
from tests.conftest import PASSWORD, Org

from .conftest import login


@pytest.fixture(autouse=True)
def _fast_hashing_and_english_messages(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"  # the messages these tests read, whatever the catalogues hold


@pytest.fixture
def cx(org: Org) -> Any:
    return do_create_staff(username="cx1", password=PASSWORD, unit=org.company, role=Role.CX_MANAGER)


def create_blank(client: Client, org: Org, slug: str = "after-visit") -> Survey:
    resp = client.post(
        reverse("console:builder_new"),
        {
            "slug": slug,
            "unit": org.company.pk,
            "name_zh": "到店回访",
            "name_en": "After the visit",
            "template": "",
        },
    )
    assert resp.status_code == 303, resp.content.decode()[:2000]
    return Survey.objects.get(slug=slug)


def add(client: Client, survey: Survey, qtype: str, *, htmx: bool = False) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("console:builder_edit", args=[survey.pk]), {"action": "add", "type": qtype}, headers=headers
    )


def save(client: Client, survey: Survey, qcode: str, /, **fields: Any) -> Any:
    data = {f"q-{qcode}-{k}": v for k, v in fields.items()}
    data["action"] = "save"
    return client.post(reverse("console:builder_question", args=[survey.pk, qcode]), data)


def draft_questions(survey: Survey) -> list[dict[str, Any]]:
    return list(survey.versions.order_by("-number").first().definition["questions"])  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_cx_manager_creates_a_blank_draft_and_writes_a_question_in_both_languages(
    org: Org, cx: Any
) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    assert survey.versions.get().status == VersionStatus.DRAFT
    assert add(client, survey, "nps").status_code == 303
    resp = save(
        client, survey, "nps", code="nps", required="on", label_zh="您会推荐我们吗？",
        label_en="Would you recommend us?", min_label_zh="不会", min_label_en="No", max_label_zh="会",
        max_label_en="Yes",
    )  # fmt: skip
    assert resp.status_code == 303
    (q,) = draft_questions(survey)
    assert q["label"] == {"zh-hans": "您会推荐我们吗？", "en": "Would you recommend us?"}
    assert q["required"] is True and q["scale"]["max_label"] == {"zh-hans": "会", "en": "Yes"}
    page = client.get(reverse("console:builder_edit", args=[survey.pk])).content.decode()
    assert "您会推荐我们吗？" in page and "Would you recommend us?" in page


@pytest.mark.django_db
def test_adding_a_question_with_htmx_answers_the_question_list_alone(org: Org, cx: Any) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    resp = add(client, survey, "single", htmx=True)
    body = resp.content.decode()
    assert resp.status_code == 200 and 'id="questions"' in body and "<html" not in body
    assert draft_questions(survey)[0]["type"] == "single"


@pytest.mark.django_db
def test_questions_are_moved_and_deleting_one_drops_the_logic_that_named_it(org: Org, cx: Any) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    for qtype in ("nps", "text", "csat"):
        add(client, survey, qtype)
    save(client, survey, "q2", code="why", label_zh="为什么？", label_en="Why?", show_if_question="nps",
         show_if_op="lte", show_if_value="6")  # fmt: skip
    assert [q["code"] for q in draft_questions(survey)] == ["nps", "why", "csat"]
    url = reverse("console:builder_question", args=[survey.pk, "csat"])
    client.post(url, {"action": "up"})
    assert [q["code"] for q in draft_questions(survey)] == ["nps", "csat", "why"]
    client.post(reverse("console:builder_question", args=[survey.pk, "nps"]), {"action": "delete"})
    questions = draft_questions(survey)
    assert [q["code"] for q in questions] == ["csat", "why"]
    assert "show_if" not in questions[1]


@pytest.mark.django_db
def test_display_logic_value_must_lie_on_the_earlier_questions_scale(org: Org, cx: Any) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    add(client, survey, "nps")
    add(client, survey, "text")
    resp = save(client, survey, "q2", code="q2", label_zh="原因", label_en="Why", show_if_question="nps",
                show_if_op="lte", show_if_value="11")  # fmt: skip
    assert resp.status_code == 422
    assert "from 0 to 10" in resp.content.decode()
    assert "show_if" not in draft_questions(survey)[1]
    resp = save(client, survey, "q2", code="q2", label_zh="原因", label_en="Why", show_if_question="nps",
                show_if_op="lte", show_if_value="6")  # fmt: skip
    assert draft_questions(survey)[1]["show_if"] == {"question": "nps", "op": "lte", "value": 6}


@pytest.mark.django_db
def test_option_lines_that_do_not_fit_say_which_line_and_what_to_write(org: Org, cx: Any) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    add(client, survey, "single")
    resp = save(client, survey, "q1", code="visit", label_zh="来店目的", label_en="Why did you come",
                options="buy | 购物 | Shopping\njust looking\nBad Code | 坏 | bad")  # fmt: skip
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "line 2" in body and "line 3" in body
    assert draft_questions(survey)[0]["code"] == "q1"


@pytest.mark.django_db
def test_publish_lists_what_is_missing_then_publishes_and_the_next_edit_starts_a_new_draft(
    org: Org, cx: Any, settings: Any
) -> None:
    client = login(cx)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    survey = create_blank(client, org)
    add(client, survey, "csat")
    save(client, survey, "csat", code="csat", label_zh="满意吗？", label_en="")
    resp = client.post(reverse("console:builder_publish", args=[survey.pk]))
    assert resp.status_code == 422 and "no text in en" in resp.content.decode()
    save(client, survey, "csat", code="csat", label_zh="满意吗？", label_en="Satisfied?")
    resp = client.post(reverse("console:builder_publish", args=[survey.pk]))
    assert resp.status_code == 303
    v1 = survey.versions.get(number=1)
    assert v1.status == VersionStatus.PUBLISHED
    assert AuditLogEntry.objects.filter(action="survey.publish", target=f"survey:{survey.pk}").exists()
    save(client, survey, "csat", code="csat", label_zh="您满意吗？", label_en="Satisfied?")
    v1.refresh_from_db()
    assert v1.definition["questions"][0]["label"]["zh-hans"] == "满意吗？"  # frozen
    assert survey.versions.get(number=2).status == VersionStatus.DRAFT


@pytest.mark.django_db
def test_preview_renders_the_draft_in_the_public_page_inside_a_frame_and_saves_nothing(
    org: Org, cx: Any
) -> None:
    client = login(cx)
    survey = create_blank(client, org)
    add(client, survey, "nps")
    save(client, survey, "nps", code="nps", required="on", label_zh="推荐吗？", label_en="Recommend us?")
    url = reverse("console:builder_preview", args=[survey.pk])
    resp = client.get(url + "?lang=en")
    body = resp.content.decode()
    assert resp.status_code == 200 and resp["X-Frame-Options"] == "SAMEORIGIN"
    assert "Recommend us?" in body and 'name="q_nps"' in body and f'action="{url}?lang=en"' in body
    assert client.post(url + "?lang=en", {"lang": "en"}).status_code == 422  # required answer missing
    resp = client.post(url + "?lang=zh-hans", {"q_nps": "9"})
    assert resp.status_code == 200 and "推荐吗？" in resp.content.decode()
    assert client.post(url + "?autosave=1", {"q_nps": "9"}).status_code == 204
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_a_store_manager_reads_the_company_survey_but_is_offered_no_builder_link_and_may_not_build_it(
    org: Org,
) -> None:
    client = login(org.manager_a)
    detail = client.get(reverse("console:survey_detail", args=[org.survey.pk]))
    assert detail.status_code == 200
    # No way into the builder is offered to a reader who may not build (and the URLs refuse).
    body = detail.content.decode()
    assert reverse("console:builder_edit", args=[org.survey.pk]) not in body
    assert reverse("console:builder_distribute", args=[org.survey.pk]) not in body
    assert client.get(reverse("console:builder_distribute", args=[org.survey.pk])).status_code == 403
    resp = client.get(reverse("console:builder_edit", args=[org.survey.pk]))
    assert resp.status_code == 403
    resp = client.post(
        reverse("console:builder_edit", args=[org.survey.pk]), {"action": "add", "type": "nps"}
    )
    assert resp.status_code == 403
    assert len(draft_questions(org.survey)) == len(org.survey.published_version().questions)  # type: ignore[union-attr]


@pytest.mark.django_db
def test_store_links_are_made_once_for_every_store_in_scope(org: Org, cx: Any) -> None:
    client = login(cx)
    survey = create_blank(client, org, "counter")
    url = reverse("console:builder_distribute", args=[survey.pk])
    assert client.post(url, {"action": "unit_links"}).status_code == 303
    stores = set(
        SurveyLink.objects.filter(survey=survey, kind=LinkKind.UNIT).values_list("unit__code", flat=True)
    )
    assert stores == {"sh-001", "sh-002", "cd-001"}
    client.post(url, {"action": "unit_links"})
    assert SurveyLink.objects.filter(survey=survey, kind=LinkKind.UNIT).count() == 3
    client.post(url, {"action": "anonymous"})
    client.post(url, {"action": "anonymous"})
    assert SurveyLink.objects.filter(survey=survey, kind=LinkKind.ANONYMOUS).count() == 1
    page = client.get(url).content.decode()
    assert "qr.svg" in page and "qr-sheet.pdf" in page


@pytest.mark.django_db
def test_the_qr_sheet_is_a_pdf_with_a_chinese_font_embedded(org: Org) -> None:
    client = login(org.admin)
    resp = client.get(reverse("console:builder_qr_sheet", args=[org.survey.pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    pdf = resp.content
    assert pdf.startswith(b"%PDF") and b"/FontFile" in pdf and b"NotoSansCJK" in pdf
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") >= 1


def test_without_a_chinese_font_the_sheet_is_refused_saying_what_to_install() -> None:
    with pytest.raises(QrSheetUnavailable, match="fonts-noto-cjk"):
        qr_sheet_pdf(title={"en": "x"}, stores=[({"zh-hans": "上海一店"}, "sh-001", "http://x/s/t")],
                     fonts=[("/nonexistent/font.ttc", 0)])  # fmt: skip


@pytest.mark.django_db
def test_a_batch_of_personal_links_downloads_as_csv_and_each_opens_the_survey_once(org: Org) -> None:
    customers = [
        Customer.objects.create(name=f"顾客{i}", external_id=f"c-{i}", home_unit=org.store_a)
        for i in range(3)
    ]
    client = login(org.admin)
    url = reverse("console:builder_distribute", args=[org.survey.pk])
    resp = client.post(url, {"action": "batch", "unit": org.store_a.pk, "customers": "c-0\nc-1\n\nc-2\n",
                             "language": "en", "expires_days": "14"})  # fmt: skip
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [r["customer_external_id"] for r in rows] == ["c-0", "c-1", "c-2"]
    link = SurveyLink.objects.get(token=rows[0]["token"])
    assert link.kind == LinkKind.PERSONAL and link.customer == customers[0] and link.expires_at is not None
    assert rows[0]["url"].endswith("/s/" + link.token)
    from tests.conftest import csi_answers

    first = check_submit_response(link=link, submission_id=uuid.uuid4(), data=csi_answers(), language="en")
    assert first.response is not None and first.response.customer == customers[0]
    resp = client.post(url, {"action": "batch", "unit": org.store_a.pk, "count": "5"})
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and all(r["customer_external_id"] == "" for r in rows)
    assert AuditLogEntry.objects.filter(action="survey.link_batch").count() == 2


@pytest.mark.django_db
def test_a_batch_naming_unknown_customers_lists_their_lines_and_makes_nothing(org: Org) -> None:
    Customer.objects.create(name="王", external_id="known", home_unit=org.store_c)
    client = login(org.manager_a)
    before = SurveyLink.objects.count()
    own = Survey.objects.create(slug="a-own", unit=org.store_a, name={"en": "A"})
    resp = client.post(reverse("console:builder_distribute", args=[own.pk]),
                       {"action": "batch", "unit": org.store_a.pk, "customers": "nobody\nknown"})  # fmt: skip
    body = resp.content.decode()
    assert resp.status_code == 422
    assert "line 1" in body and "line 2" in body  # store C's customer is unknown to store A's manager
    assert SurveyLink.objects.count() == before
