"""Many submits at once against the real server: one response per form, one winner per personal link."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from manyi.customers.models import Customer
from manyi.responses.models import Response
from manyi.surveys.actions import do_create_link
from manyi.surveys.choices import LinkKind
from manyi.surveys.models import SurveyLink
from tests.conftest import csi_answers

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')


def open_form(base: str, token: str, **headers: str) -> tuple[dict[str, str], dict[str, str]]:
    """GET the survey like a browser: the hidden fields and the cookies it was given."""
    with httpx.Client(base_url=base, timeout=30) as c:
        page = c.get(f"/s/{token}", headers=headers)
        assert page.status_code == 200, page.text[:500]
        return dict(HIDDEN.findall(page.text)), dict(c.cookies)


def post_all_at_once(base: str, token: str, forms: list[tuple[dict[str, str], dict[str, str]]]) -> list[Any]:
    """POST every (data, cookies) pair from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(forms))
    results: list[Any] = [None] * len(forms)

    def send(i: int, data: dict[str, str], cookies: dict[str, str]) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=60) as c:
            barrier.wait(timeout=30)
            try:
                results[i] = c.post(f"/s/{token}", data=data)
            except httpx.HTTPError as exc:  # recorded, so the assertion below says what happened
                results[i] = exc

    threads = [threading.Thread(target=send, args=(i, d, ck)) for i, (d, ck) in enumerate(forms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a submit never came back"
    return results


def personal_link(org: Any, **extra: Any) -> SurveyLink:
    customer = Customer.objects.create(name="王芳", home_unit=org.store_a, language="zh-hans")
    return do_create_link(survey=org.survey, kind=LinkKind.PERSONAL, customer=customer, **extra)


def test_a_test_sends_the_same_form_20_times_at_once_and_finds_exactly_one_response(live_server, org):
    hidden, cookies = open_form(live_server.url, org.link_a.token)
    data = {**hidden, **csi_answers(nps=8, comment="二十个人同时点了提交")}
    results = post_all_at_once(live_server.url, org.link_a.token, [(data, cookies)] * 20)

    statuses = [getattr(r, "status_code", repr(r)) for r in results]
    assert statuses == [303] * 20, statuses
    locations = {r.headers["location"] for r in results}
    assert len(locations) == 1, locations
    assert f"/s/{org.link_a.token}/thanks/{hidden['sid']}" in locations.pop()
    assert Response.objects.count() == 1
    r = Response.objects.get()
    assert (str(r.submission_id), r.nps, r.comment) == (hidden["sid"], 8, "二十个人同时点了提交")
    assert r.answers.filter(question_code="nps").count() == 1


def test_a_personal_link_raced_by_two_different_forms_has_exactly_one_winner(live_server, org):
    for _round in range(3):
        link = personal_link(org)
        forms = [open_form(live_server.url, link.token, **{"Accept-Language": "en"}) for _ in range(2)]
        assert forms[0][0]["sid"] != forms[1][0]["sid"]
        data = [({**hidden, **csi_answers()}, cookies) for hidden, cookies in forms]
        results = post_all_at_once(live_server.url, link.token, data)

        statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
        assert statuses == [303, 410], statuses
        loser = next(r for r in results if r.status_code == 410)
        assert "already been used" in loser.text
        assert Response.objects.filter(link=link).count() == 1
        link.refresh_from_db()
        assert link.used_at is not None


def test_opening_a_personal_link_many_times_never_uses_it_up_only_submitting_does(live_server, org):
    link = personal_link(org)
    for _ in range(4):  # the customer opens the SMS link again and again, on new devices
        hidden, cookies = open_form(live_server.url, link.token)
        link.refresh_from_db()
        assert link.used_at is None
    with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=30) as c:
        sent = c.post(f"/s/{link.token}", data={**hidden, **csi_answers()})
        assert sent.status_code == 303
        link.refresh_from_db()
        assert link.used_at is not None
        # The same device is sent to its thank-you page; another device gets a clear 410.
        again = c.get(f"/s/{link.token}")
        assert again.status_code == 302
        assert "/thanks/" in again.headers["location"]
    other = httpx.get(f"{live_server.url}/s/{link.token}", headers={"Accept-Language": "en"})
    assert other.status_code == 410
    assert "This personal link has already been used to answer." in other.text
    assert Response.objects.count() == 1


def test_an_expired_link_answers_a_clear_410_page(live_server, org):
    link = personal_link(org, expires_at=timezone.now() - timedelta(minutes=1))
    page = httpx.get(f"{live_server.url}/s/{link.token}", headers={"Accept-Language": "en"})
    assert page.status_code == 410
    assert "text/html" in page.headers["content-type"]
    assert "This survey link has expired." in page.text
    assert "This link is no longer valid" in page.text  # the page title
    assert "Traceback" not in page.text

    # A form opened before the link expired cannot be submitted after.
    fresh = personal_link(org, expires_at=timezone.now() + timedelta(days=1))
    hidden, cookies = open_form(live_server.url, fresh.token, **{"Accept-Language": "en"})
    SurveyLink.objects.filter(pk=fresh.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=30) as c:
        late = c.post(
            f"/s/{fresh.token}", data={**hidden, **csi_answers()}, headers={"Accept-Language": "en"}
        )
    assert late.status_code == 410
    assert "This survey link has expired." in late.text
    assert Response.objects.count() == 0
