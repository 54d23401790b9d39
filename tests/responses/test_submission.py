"""Submitting the public survey: exactly once, and nothing valid is lost."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from manyi.feedback.models import FeedbackRecord
from manyi.responses.models import Answer, Response, ResponseDraft
from tests.conftest import csi_answers


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields the page carries (sid, v, started, csrf token)."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def open_survey(client: Client, token: str, **headers: str) -> dict[str, str]:
    page = client.get(f"/s/{token}", headers=headers)
    assert page.status_code == 200, page.content[:500]
    return form_fields(page.content.decode())


@pytest.mark.django_db(transaction=True)
def test_valid_submission_stores_one_response_with_answers_and_redirects_to_thanks(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    resp = client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers(nps=3, comment="排队太久了")})
    assert resp.status_code == 303
    assert "/thanks/" in resp["Location"]
    r = Response.objects.get()
    assert (r.unit, r.nps, r.csat, r.comment, r.channel) == (org.store_a, 3, 4, "排队太久了", "qr")
    assert r.version.number == 1
    codes = set(Answer.objects.filter(response=r).values_list("question_code", flat=True))
    assert {"nps", "csat", "csi.tangibles", "csi.empathy", "comment", "contact_ok"} <= codes
    assert "127.0.0.1" not in (r.ip_hash or "") and len(r.ip_hash) == 32
    thanks = client.get(resp["Location"])
    assert thanks.status_code == 200
    assert "感谢您的评价" in thanks.content.decode()


@pytest.mark.django_db(transaction=True)
def test_submitting_the_same_form_twice_stores_one_response_and_shows_the_same_thanks(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    data = {**hidden, **csi_answers()}
    first = client.post(f"/s/{org.link_a.token}", data)
    second = client.post(f"/s/{org.link_a.token}", data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_invalid_answer_gets_message_at_that_question_and_keeps_everything_else(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    data = {**hidden, **csi_answers(comment="服务员很热情")}
    data["q_nps"] = "11"
    resp = client.post(f"/s/{org.link_a.token}", data)
    assert resp.status_code == 422
    html = resp.content.decode()
    assert 'id="err-nps"' in html
    assert "服务员很热情" in html  # the comment typed is still there
    assert 'value="4" checked' in html  # ratings given are still checked
    assert Response.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_required_question_missing_is_reported_and_nothing_is_written(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    data = {**hidden, **csi_answers()}
    del data["q_csat"]
    resp = client.post(f"/s/{org.link_a.token}", data)
    assert resp.status_code == 422
    assert 'id="err-csat"' in resp.content.decode()
    assert Response.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_unknown_option_is_refused_at_that_question(db):
    from tests.conftest import build_org

    org = build_org("relational_nps")
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    resp = client.post(f"/s/{org.link_a.token}", {**hidden, "q_nps": "5", "q_reasons": ["wait", "bogus"]})
    assert resp.status_code == 422
    assert 'id="err-reasons"' in resp.content.decode()


@pytest.mark.django_db(transaction=True)
def test_answers_saved_as_you_go_come_back_on_reload(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    saved = client.post(f"/s/{org.link_a.token}/draft", {**hidden, "q_nps": "7", "q_comment": "还不错"})
    assert saved.status_code == 204
    assert ResponseDraft.objects.count() == 1
    again = client.get(f"/s/{org.link_a.token}").content.decode()
    assert form_fields(again)["sid"] == hidden["sid"]
    assert 'name="q_nps" value="7" checked' in again
    assert "还不错" in again


@pytest.mark.django_db(transaction=True)
def test_comment_becomes_a_feedback_record_when_the_worker_runs(org):
    from django.core.management import call_command

    client = Client()
    hidden = open_survey(client, org.link_a.token)
    client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers(nps=2, comment="洗手间很脏")})
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    record = FeedbackRecord.objects.get()
    assert (record.channel, record.text, record.unit) == ("survey", "洗手间很脏", org.store_a)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert FeedbackRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_submission_id_from_another_link_is_refused(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token)
    client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers()})
    other = open_survey(Client(), org.link_b.token)
    resp = Client().post(f"/s/{org.link_b.token}", {**other, "sid": hidden["sid"], **csi_answers()})
    assert resp.status_code == 409
    assert Response.objects.count() == 1
    assert str(uuid.UUID(hidden["sid"])) == str(Response.objects.get().submission_id)
