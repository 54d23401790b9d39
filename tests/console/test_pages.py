"""The console's pages: signing in, languages, time zones, answers, QR codes and lists."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from manyi.responses.actions import check_submit_response
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_link, do_create_survey, do_publish
from manyi.surveys.choices import LinkKind
from tests.conftest import PASSWORD

from .conftest import A_MARK, SUBMITTED, login, submit


@pytest.mark.django_db
def test_store_manager_signs_in_with_password_and_lands_on_the_overview(world):
    client = Client()
    page = client.get(reverse("console:login"))
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    resp = client.post(reverse("console:login"), {"username": "mgr-a", "password": PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == reverse("console:home")
    home = client.get(resp["Location"]).content.decode()
    assert "mgr-a" in home and "上海一店" in home  # the user's name and the store they cover


@pytest.mark.django_db
def test_wrong_password_shows_the_form_again_with_an_error(world):
    client = Client()
    resp = client.post(reverse("console:login"), {"username": "mgr-a", "password": "wrong-password"})
    assert resp.status_code == 200
    assert 'class="alert"' in resp.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_out_is_a_post_and_ends_the_session(world):
    client = login(world.org.manager_a)
    assert client.get(reverse("console:logout")).status_code == 405
    resp = client.post(reverse("console:logout"))
    assert resp.status_code == 302
    assert client.get(reverse("console:home")).status_code == 302


@pytest.mark.django_db
def test_language_switch_renders_the_overview_in_english_and_in_chinese(world):
    client = login(world.org.manager_a)
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert resp.status_code == 302
    en = client.get("/").content.decode()
    assert '<html lang="en">' in en
    assert "Shanghai 1" in en and "上海一店" not in en  # the unit name from the database, in English
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    zh = client.get("/").content.decode()
    assert '<html lang="zh-Hans">' in zh
    assert "上海一店" in zh and "Shanghai 1" not in zh


@pytest.mark.django_db
def test_the_language_switch_and_sign_out_are_post_forms_with_csrf(world):
    html = login(world.org.manager_a).get("/").content.decode()
    assert re.search(r'<form class="langswitch" action="/i18n/setlang/" method="post">', html)
    assert re.search(r'<form action="/logout/" method="post"', html)
    assert html.count("csrfmiddlewaretoken") >= 2


@pytest.mark.django_db
def test_overview_shows_counts_and_nps_with_its_n(world):
    html = login(world.org.manager_a).get("/?from=2026-01-01&to=2026-01-31").content.decode()
    # Store A: one detractor (2) and one promoter (10): NPS 0.0 on n = 2.
    assert "n = 2" in html
    assert ">0.0<" in html or ">0<" in html


@pytest.mark.django_db
def test_response_detail_lists_every_answer_with_labels_in_the_chosen_language(world):
    client = login(world.org.manager_a)
    url = reverse("console:response_detail", args=[world.a.response.pk])
    client.post("/i18n/setlang/", {"language": "en", "next": url})
    html = client.get(url).content.decode()
    assert "How likely are you to recommend us" in html
    assert "Tangibles: premises, equipment and staff appearance" in html
    assert f"排队太久了 {A_MARK}" in html  # the comment, as typed
    assert f"顾客 {A_MARK}" in html  # the customer
    assert f"回访 {A_MARK}" in html  # the case
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": url})
    html = client.get(url).content.decode()
    assert "您有多大可能向朋友或同事推荐我们" in html
    assert "有形性" in html


@pytest.mark.django_db
def test_times_are_shown_in_the_users_unit_time_zone(world):
    a = login(world.org.manager_a).get(reverse("console:response_detail", args=[world.a.response.pk]))
    assert "2026-01-05 12:00" in a.content.decode()  # 04:00 UTC in Shanghai
    c = login(world.org.manager_c).get(reverse("console:response_detail", args=[world.c.response.pk]))
    assert "2026-01-05 10:00" in c.content.decode()  # the same instant in Urumqi


@pytest.mark.django_db
def test_stored_text_is_escaped_everywhere_it_is_shown(world):
    r = submit(world.org.link_a, nps=1, comment="<script>alert('x')</script>")
    client = login(world.org.manager_a)
    for url in (
        reverse("console:home") + "?from=2026-01-01&to=2026-01-31",  # the comment's month
        reverse("console:response_list"),
        reverse("console:response_detail", args=[r.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert" in html, url


@pytest.mark.django_db
def test_survey_detail_lists_versions_and_the_public_links_with_their_address(world):
    html = (
        login(world.org.admin)
        .get(reverse("console:survey_detail", args=[world.org.survey.pk]))
        .content.decode()
    )
    assert "v1" in html
    for link in (world.org.link_a, world.org.link_b, world.org.link_c):
        assert f"{settings.MANYI_BASE_URL}/s/{link.token}" in html
        assert reverse("console:survey_link_qr_svg", args=[world.org.survey.pk, link.pk]) in html


@pytest.mark.django_db
def test_qr_code_of_a_store_link_comes_as_svg_and_png(world):
    client = login(world.org.manager_a)
    args = [world.org.survey.pk, world.org.link_a.pk]
    svg = client.get(reverse("console:survey_link_qr_svg", args=args))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<svg")
    png = client.get(reverse("console:survey_link_qr_png", args=args) + "?download=1")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert png["Content-Disposition"].startswith("attachment;")


@pytest.mark.django_db
def test_qr_code_of_a_personal_link_is_never_served(world):
    link = world.a.response.link
    assert link is not None and link.kind == "personal"
    client = login(world.org.admin)
    assert (
        client.get(reverse("console:survey_link_qr_svg", args=[link.survey_id, link.pk])).status_code == 404
    )


@pytest.mark.django_db
def test_response_list_pages_by_50_with_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for i in range(60):
        submit(world.org.link_a, nps=i % 11, comment=f"comment {i}")
    client = login(world.org.manager_a)
    client.get("/")  # the first request of a session also stores the user's time zone
    # Session, user, scope, column preference, page, capped count, the two filter pickers, the
    # export permission (3) and the top bar's roles: a fixed number whatever the page.
    with django_assert_max_num_queries(13):
        first = client.get(reverse("console:response_list")).content.decode()
    assert len(re.findall(r'href="/responses/\d+/"', first)) == 50
    after = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', first)
    assert after is not None
    with django_assert_max_num_queries(13):
        second = client.get(reverse("console:response_list") + "?" + after.group(1).replace("&amp;", "&"))
    assert (
        len(re.findall(r'href="/responses/\d+/"', second.content.decode()))
        == Response.objects.filter(unit=world.org.store_a).count() - 50
    )


@pytest.mark.django_db
def test_every_list_and_the_overview_fit_a_query_budget(world, django_assert_max_num_queries):
    client = login(world.org.admin)
    client.get("/")  # the first request of a session also stores the user's time zone
    for name in ("unit_list", "survey_list", "response_list", "feedback_list", "case_list"):
        with django_assert_max_num_queries(13 if name == "response_list" else 10):
            assert client.get(reverse(f"console:{name}")).status_code == 200
    # The dashboard asks one counting query per figure (tiles against the previous period, trend,
    # league, comments, cases, pickers), a fixed number whatever the data size.
    with django_assert_max_num_queries(30):
        assert client.get(reverse("console:home")).status_code == 200


@pytest.mark.django_db
def test_console_pages_load_htmx_from_our_own_static_files(world):
    html = login(world.org.manager_a).get("/").content.decode()
    assert re.search(r'<script src="/static/vendor/htmx/htmx\.min[^"]*\.js" defer>', html)
    # Every script and stylesheet is ours; a random CSRF token may spell "cdn", a URL may not.
    assets = re.findall(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert not re.search(r"(?i)(https?:)?//[^\s\"'<>]*(cdn|unpkg)", html)


@pytest.mark.django_db
def test_question_skipped_by_display_logic_reads_not_asked_rather_than_not_answered(world):
    survey = do_create_survey(slug="nps-only", unit=world.org.store_a, template="relational_nps")
    do_publish(survey=survey)
    link = do_create_link(survey=survey, kind=LinkKind.UNIT, unit=world.org.store_a)
    result = check_submit_response(
        link=link, submission_id=uuid.uuid4(), data={"q_nps": "10"}, language="en", now=SUBMITTED
    )
    assert result.response is not None
    html = login(world.org.manager_a).get(
        reverse("console:response_detail", args=[result.response.pk]), headers={"Accept-Language": "en"}
    )
    body = html.content.decode()
    assert "Not asked (display logic)" in body  # "what mattered most" is only asked at 8 or below
    assert "Not answered" in body  # the optional comment


@pytest.mark.django_db
def test_staff_names_are_written_family_name_first_in_chinese(world):
    user = world.org.manager_a
    user.first_name, user.last_name = "俊杰", "黄"
    user.save(update_fields=["first_name", "last_name"])
    assert "黄俊杰" in login(user).get("/").content.decode()
