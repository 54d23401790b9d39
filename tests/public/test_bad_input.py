"""Whatever is sent to the public pages, the answer is a clear page (or JSON on /api/), never a 500."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from manyi.customers.models import Customer
from manyi.responses.models import Answer, Response
from manyi.surveys.actions import do_create_link, do_create_survey, do_edit_draft, do_publish
from manyi.surveys.choices import LinkKind, VersionStatus
from manyi.surveys.models import PublishedVersionIsFrozen, SurveyVersion
from tests.conftest import build_org, csi_answers

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
CJK = re.compile(r"[\u4e00-\u9fff]")
SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE responses_response; --"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


def open_survey(client: Client, token: str, **headers: str) -> dict[str, str]:
    page = client.get(f"/s/{token}", headers=headers)
    assert page.status_code == 200, page.content[:500]
    return hidden_fields(page.content.decode())


def html_lang(html: str) -> str:
    m = re.search(r'<html lang="([^"]*)"', html)
    return m.group(1) if m else ""


def assert_clear_page(resp: Any, status: int) -> str:
    """A person-readable HTML page with a message and no stack trace."""
    assert resp.status_code == status, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("text/html")
    html = resp.content.decode()
    assert 'role="alert"' in html, html[:500]
    assert "Traceback" not in html
    return html


def assert_json_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("application/json")
    body = json.loads(resp.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"].strip()
    if code:
        assert body["error"]["code"] == code
    return body


# --- tokens --------------------------------------------------------------------------------------------

MALFORMED_TOKENS = [
    pytest.param("abc", id="too-short"),
    pytest.param("a" * 15, id="one-short"),
    pytest.param("a" * 33, id="one-long"),
    pytest.param("x" * 5000, id="very-long"),
    pytest.param("abc$def!ghi*jkl(mno)pq", id="bad-chars"),
    pytest.param("满意满意满意满意满意满意满意满意", id="chinese"),
    pytest.param("..%2F..%2F..%2Fetc%2Fpasswd", id="traversal"),
    pytest.param("%2e%2e%2f%2e%2e%2fsettings.py", id="traversal-dots-encoded"),
    pytest.param("....%5C....%5Cwindows%5Cwin.ini", id="traversal-backslash"),
    pytest.param("abcdefghijklmnop%00qrstu", id="nul-byte"),
    pytest.param("abcdefghij%20klmnopqrstuv", id="space"),
    pytest.param("%3Cscript%3Ealert(1)%3C%2Fscript%3E", id="script"),
    pytest.param("'%20OR%20'1'%3D'1'--%20aaaaaaaa", id="sql"),
]


@pytest.mark.parametrize("token", MALFORMED_TOKENS)
def test_a_malformed_token_gets_a_clear_404_page_never_a_500(org, token):
    client = Client()
    for resp in (
        client.get(f"/s/{token}", headers=EN),
        client.post(f"/s/{token}", csi_answers(), headers=EN),
        client.post(f"/s/{token}/draft", {"q_nps": "5"}, headers=EN),
        client.get(f"/s/{token}/thanks/{uuid.uuid4()}", headers=EN),
    ):
        html = assert_clear_page(resp, 404)
        assert "<script>alert(1)</script>" not in html
    assert Response.objects.count() == 0


def test_an_unknown_token_gets_a_404_page_in_english_for_an_english_phone(org):
    html = assert_clear_page(Client().get("/s/AAAAAAAAAAAAAAAAAAAAAA", headers=EN), 404)
    assert "This survey link is not valid. Please check the address or QR code." in html
    assert html_lang(html) == "en"


def test_an_unknown_token_gets_a_404_page_in_chinese_for_a_chinese_phone(org):
    html = assert_clear_page(Client().get("/s/AAAAAAAAAAAAAAAAAAAAAA", headers=ZH), 404)
    assert html_lang(html) == "zh-Hans", "the error page must declare the language it is written in"
    message = re.search(r'<p class="lead" role="alert">(.*?)</p>', html, re.S).group(1)
    assert CJK.search(message), f"the 404 message on a Chinese phone reads {message!r}"


def test_a_thanks_page_for_an_unknown_or_garbled_submission_is_a_404_page(org):
    client = Client()
    for sid in (str(uuid.uuid4()), "not-a-uuid", "0" * 200, "%00"):
        assert_clear_page(client.get(f"/s/{org.link_a.token}/thanks/{sid}", headers=EN), 404)


def test_an_expired_link_gets_a_410_page_for_the_page_the_draft_and_the_submit(org):
    link = do_create_link(
        survey=org.survey, kind=LinkKind.UNIT, unit=org.store_a, expires_at=timezone.now() - timedelta(days=1)
    )
    client = Client()
    html = assert_clear_page(client.get(f"/s/{link.token}", headers=EN), 410)
    assert "This survey link has expired." in html
    sid = str(uuid.uuid4())
    html = assert_clear_page(client.post(f"/s/{link.token}", {"sid": sid, **csi_answers()}, headers=EN), 410)
    assert "This survey link has expired." in html
    assert client.post(f"/s/{link.token}/draft", {"sid": sid, "q_nps": "3"}).status_code == 400
    assert Response.objects.count() == 0


# --- bodies --------------------------------------------------------------------------------------------

BIG = 64 * 1024 + 1


def test_a_form_over_64_kb_gets_a_413_page(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    body = "&".join(f"{k}={v}" for k, v in {**hidden, **csi_answers()}.items()) + "&q_comment=" + "x" * BIG
    resp = client.generic(
        "POST", f"/s/{org.link_a.token}", body, content_type="application/x-www-form-urlencoded", headers=EN
    )
    html = assert_clear_page(resp, 413)
    assert "Too much data" in html
    assert Response.objects.count() == 0


def test_a_body_over_64_kb_on_an_api_path_gets_a_413_json_error(org):
    resp = Client().post(
        "/api/v1/responses", {"comment": "x" * BIG}, content_type="application/json", headers=EN
    )
    assert_json_error(resp, 413, "body_too_large")


def test_a_body_of_exactly_64_kb_is_read_not_refused(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    body = "&".join(f"{k}={v}" for k, v in {**hidden, **csi_answers()}.items()) + "&q_comment="
    body += "x" * (64 * 1024 - len(body))
    assert len(body) == 64 * 1024
    resp = client.generic(
        "POST", f"/s/{org.link_a.token}", body, content_type="application/x-www-form-urlencoded", headers=EN
    )
    assert resp.status_code == 422  # read and answered: the comment is over 2000 characters
    assert "Please keep this under 2000 characters." in resp.content.decode()


def test_unknown_api_paths_answer_json_errors_not_pages(org):
    assert_json_error(Client().get("/api/v1/nothing-here"), 404)
    assert_json_error(Client().post("/api/v1/nothing-here", "{", content_type="application/json"), 404)


def test_a_content_length_that_is_not_a_number_gets_a_400(org):
    resp = Client().generic(
        "POST", f"/s/{org.link_a.token}", b"sid=1", content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="lots",
    )  # fmt: skip
    assert_clear_page(resp, 400)
    resp = Client().generic(
        "POST", "/api/v1/responses", b"{}", content_type="application/json", CONTENT_LENGTH="x"
    )
    assert_json_error(resp, 400, "bad_content_length")


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", json.dumps({"sid": "0b7e6a52-54a4-4a8e-9d55-2f3f0d3f8a01", "q_nps": 5})),
        ("text/plain", "sid=abc&q_nps=5"),
        ("application/xml", "<sid>1</sid>"),
        ("application/octet-stream", "\x00\x01\x02"),
    ],
    ids=["json", "text", "xml", "octet-stream"],
)
def test_a_submit_that_is_not_a_form_gets_a_415(org, content_type, body):
    client = Client()
    html = assert_clear_page(
        client.generic("POST", f"/s/{org.link_a.token}", body, content_type=content_type, headers=EN), 415
    )
    assert "application/x-www-form-urlencoded" in html
    assert (
        client.generic("POST", f"/s/{org.link_a.token}/draft", body, content_type=content_type).status_code
        == 415
    )
    assert Response.objects.count() == 0


def test_a_415_is_json_for_a_client_that_asks_for_json(org):
    resp = Client().post(
        f"/s/{org.link_a.token}",
        {"q": 1},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert_json_error(resp, 415, "unsupported_content_type")


def test_a_multipart_body_without_a_boundary_gets_a_400_not_a_500(org):
    resp = Client().generic(
        "POST", f"/s/{org.link_a.token}", b"--x\r\nnonsense", content_type="multipart/form-data", headers=EN
    )
    assert resp.status_code == 400


def test_a_form_with_thousands_of_fields_gets_a_400_not_a_500(org):
    body = "&".join(f"f{i}=1" for i in range(3000))
    resp = Client().generic(
        "POST", f"/s/{org.link_a.token}", body, content_type="application/x-www-form-urlencoded", headers=EN
    )
    assert resp.status_code == 400


@pytest.mark.parametrize(
    "sid",
    [None, "", "not-a-uuid", "' OR 1=1 --", "1" * 500, "{}", "\x00"],
    ids=["missing", "empty", "words", "sql", "long", "braces", "nul"],
)
def test_a_missing_or_garbled_sid_gets_a_400_page(org, sid):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    data = {**hidden, **csi_answers()}
    if sid is None:
        del data["sid"]
    else:
        data["sid"] = sid
    html = assert_clear_page(client.post(f"/s/{org.link_a.token}", data, headers=EN), 400)
    assert "The form is incomplete. Please reload the page." in html
    assert Response.objects.count() == 0


@pytest.mark.parametrize("v", ["abc", "-1", "1e9", "99999999999999999999999", "0x10", "[]"])
def test_a_garbled_version_field_falls_back_to_the_published_version(org, v):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    resp = client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers(), "v": v}, headers=EN)
    assert resp.status_code == 303
    assert Response.objects.get().version == org.survey.published_version()


def test_a_garbled_started_field_or_language_is_ignored(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    data = {**hidden, **csi_answers(), "started": "garbage:signature", "lang": "../../etc/passwd"}
    resp = client.post(f"/s/{org.link_a.token}?lang=%00", data, headers=EN)
    assert resp.status_code == 303
    assert Response.objects.get().language == "en"


def test_the_draft_endpoint_refuses_garbage_with_a_400(org):
    client = Client()
    for data in ({}, {"sid": "nope"}, {"sid": "", "q_nps": "3"}):
        assert_clear_page(client.post(f"/s/{org.link_a.token}/draft", data, headers=EN), 400)
    # A garbled version and an out-of-range answer are skipped, not stored and not a crash.
    sid = str(uuid.uuid4())
    saved = client.post(f"/s/{org.link_a.token}/draft", {"sid": sid, "v": "abc", "q_nps": "99"}, headers=EN)
    assert saved.status_code == 204
    assert client.get(f"/s/{org.link_a.token}/draft").status_code == 405


# --- script and SQL in answers -------------------------------------------------------------------------


def test_script_and_sql_in_answers_are_stored_verbatim_and_shown_escaped_on_the_form(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    data = {**hidden, **csi_answers(comment=f"{SCRIPT} {SQL}")}
    data["q_nps"] = "11"  # invalid, so the form comes back with the comment in it
    again = client.post(f"/s/{org.link_a.token}", data, headers=EN)
    assert again.status_code == 422
    html = again.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#x27;; DROP TABLE responses_response; --" in html

    data["q_nps"] = "3"
    assert client.post(f"/s/{org.link_a.token}", data, headers=EN).status_code == 303
    r = Response.objects.get()
    assert r.comment == f"{SCRIPT} {SQL}"
    assert Answer.objects.get(response=r, question_code="comment").text == f"{SCRIPT} {SQL}"
    assert "responses_response" in connection.introspection.table_names()


def test_script_in_an_autosaved_draft_comes_back_escaped_after_a_reload(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    saved = client.post(f"/s/{org.link_a.token}/draft", {**hidden, "q_comment": SCRIPT, "q_nps": "4"})
    assert saved.status_code == 204
    html = client.get(f"/s/{org.link_a.token}", headers=EN).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_script_in_the_other_text_of_a_choice_is_escaped_on_the_form(db):
    org = build_org("relational_nps")
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    data = {
        **hidden,
        "q_nps": "4",
        "q_reasons": ["other"],
        "q_reasons__other": f'"><img src=x onerror=alert(1)>{SQL}',
    }
    data["q_contact_ok"] = "maybe"  # invalid, so the form is shown again
    html = client.post(f"/s/{org.link_a.token}", data, headers=EN).content.decode()
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    data["q_contact_ok"] = "no"
    assert client.post(f"/s/{org.link_a.token}", data, headers=EN).status_code == 303
    other = Answer.objects.get(question_code="reasons.other")
    assert other.text == f'"><img src=x onerror=alert(1)>{SQL}'


def test_script_in_an_answer_is_escaped_on_the_console_response_page(org):
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    client.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers(nps=2, comment=f"{SCRIPT} {SQL}")})
    r = Response.objects.get()
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-passphrase")
    staff = Client()
    staff.force_login(admin)
    page = staff.get(f"/responses/{r.pk}/", headers=EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- rate limits ---------------------------------------------------------------------------------------


@pytest.fixture
def frozen_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every hit in one rate-limit window (the window is wall-clock based)."""
    from manyi.core import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_010.0))


def test_the_fourth_submit_in_a_minute_from_one_client_gets_a_429_with_retry_after(
    org, settings, frozen_window
):
    settings.MANYI_SUBMIT_RATE_LIMIT = "3/m"
    client = Client()
    hidden = open_survey(client, org.link_a.token, **EN)
    for _ in range(3):
        data = {**hidden, **csi_answers(), "sid": str(uuid.uuid4())}
        assert client.post(f"/s/{org.link_a.token}", data, headers=EN).status_code == 303
    fourth = client.post(
        f"/s/{org.link_a.token}", {**hidden, **csi_answers(), "sid": str(uuid.uuid4())}, headers=EN
    )
    html = assert_clear_page(fourth, 429)
    assert fourth["Retry-After"] == "50"
    assert "Please wait 50 seconds" in html
    assert Response.objects.count() == 3
    # Another address is not held back by this one.
    other = Client(REMOTE_ADDR="203.0.113.9")
    hidden = open_survey(other, org.link_a.token, **EN)
    assert other.post(f"/s/{org.link_a.token}", {**hidden, **csi_answers()}, headers=EN).status_code == 303


def test_a_rate_limited_client_that_asks_for_json_gets_a_json_429(org, settings, frozen_window):
    settings.MANYI_PUBLIC_RATE_LIMIT = "2/m"
    client = Client()
    for _ in range(2):
        assert client.get(f"/s/{org.link_a.token}").status_code == 200
    resp = client.get(f"/s/{org.link_a.token}", headers={"Accept": "application/json"})
    assert_json_error(resp, 429, "rate_limited")
    assert int(resp["Retry-After"]) > 0


# --- language ------------------------------------------------------------------------------------------


def page_lang(client: Client, token: str, query: str = "", **headers: str) -> str:
    resp = client.get(f"/s/{token}{query}", headers=headers)
    assert resp.status_code == 200
    return hidden_fields(resp.content.decode())["lang"]


def test_a_link_with_a_language_wins_over_the_phones_language(org):
    link = do_create_link(survey=org.survey, kind=LinkKind.UNIT, unit=org.store_a, language="en")
    assert page_lang(Client(), link.token, **ZH) == "en"
    assert page_lang(Client(), link.token) == "en"


def test_a_language_picked_on_the_page_wins_over_the_links_language(org):
    """The order: a choice made with the page's language switch (?lang), then the link's language,
    then Accept-Language, then the survey's fallback language."""
    link = do_create_link(survey=org.survey, kind=LinkKind.UNIT, unit=org.store_a, language="en")
    assert page_lang(Client(), link.token, "?lang=zh-hans") == "zh-hans"
    assert page_lang(Client(), link.token) == "en"


def test_lang_in_the_address_wins_over_the_phones_language(org):
    assert page_lang(Client(), org.link_a.token, "?lang=en", **ZH) == "en"
    assert page_lang(Client(), org.link_a.token, "?lang=zh-hans", **EN) == "zh-hans"
    assert page_lang(Client(), org.link_a.token, "?lang=fr", **EN) == "en"  # unsupported: ignored


@pytest.mark.parametrize(
    "header, expected",
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"),
        ("zh-TW", "zh-hans"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("de", "zh-hans"),  # nothing we have: the survey's fallback language
        (";;;,,,q=,*", "zh-hans"),
        ("", "zh-hans"),
    ],
)
def test_the_phones_language_is_used_when_neither_link_nor_address_chooses(org, header, expected):
    assert (
        page_lang(Client(), org.link_a.token, **({"Accept-Language": header} if header else {})) == expected
    )


def test_accept_language_quality_values_are_respected(org):
    assert page_lang(Client(), org.link_a.token, **{"Accept-Language": "zh;q=0.1, en;q=0.9"}) == "en"


def test_without_any_hint_the_page_uses_the_surveys_own_fallback_language(org):
    survey = do_create_survey(
        slug="en-first", unit=org.company, template="post_service_csat", fallback_language="en"
    )
    do_publish(survey=survey)
    link = do_create_link(survey=survey, kind=LinkKind.UNIT, unit=org.store_a)
    assert page_lang(Client(), link.token) == "en"
    assert page_lang(Client(), link.token, **{"Accept-Language": "ja"}) == "en"
    only_zh = do_create_survey(
        slug="zh-only", unit=org.company, template="post_service_csat", languages=["zh-hans"]
    )
    do_publish(survey=only_zh)
    link = do_create_link(survey=only_zh, kind=LinkKind.UNIT, unit=org.store_a, language="en")
    assert page_lang(Client(), link.token, "?lang=en", **EN) == "zh-hans"


def test_the_thanks_page_is_in_the_language_the_survey_was_answered_in(org):
    for headers, thanks in ((EN, "Thank you for your rating!"), (ZH, "感谢您的评价！")):
        client = Client()
        hidden = open_survey(client, org.link_a.token, **headers)
        sent = client.post(f"/s/{org.link_a.token}?lang={hidden['lang']}", {**hidden, **csi_answers()})
        assert sent.status_code == 303
        page = client.get(sent["Location"], headers=EN if headers is ZH else ZH)  # the header has changed
        assert thanks in page.content.decode()


# --- survey versions -----------------------------------------------------------------------------------


def test_publishing_v2_leaves_v1_unchanged_and_responses_keep_the_version_they_answered(org):
    survey = org.survey
    v1 = survey.published_version()
    v1_definition = json.loads(json.dumps(v1.definition))

    old = Client()
    old_hidden = open_survey(old, org.link_a.token, **EN)  # a phone opened v1 ...

    edited = json.loads(json.dumps(v1.definition))
    edited["questions"] = [q for q in edited["questions"] if q["code"] != "sq_wait"]
    edited["questions"][0]["label"]["en"] = "Would you recommend this store?"
    v2_draft = do_edit_draft(survey=survey, definition=edited)
    assert v2_draft.number == 2 and v2_draft.pk != v1.pk
    v2 = do_publish(survey=survey)
    assert v2.pk == v2_draft.pk

    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert v1.definition == v1_definition
    assert survey.published_version() == v2

    # ... and submits after v2 is out: the answer belongs to v1, a new phone answers v2.
    assert old.post(f"/s/{org.link_a.token}", {**old_hidden, **csi_answers()}).status_code == 303
    new = Client()
    new_page = new.get(f"/s/{org.link_a.token}", headers=EN).content.decode()
    assert "Would you recommend this store?" in new_page
    assert 'name="q_sq_wait__expectation"' not in new_page
    assert new.post(f"/s/{org.link_a.token}", {**hidden_fields(new_page), **csi_answers()}).status_code == 303
    by_sid = {str(r.submission_id): r.version.number for r in Response.objects.all()}
    assert by_sid == {old_hidden["sid"]: 1, hidden_fields(new_page)["sid"]: 2}


def test_saving_a_published_or_retired_version_raises(org):
    v1 = org.survey.published_version()
    v1.definition["questions"][0]["required"] = False
    with pytest.raises(PublishedVersionIsFrozen):
        v1.save()
    with pytest.raises(PublishedVersionIsFrozen):
        v1.save(update_fields=["definition"])
    do_edit_draft(survey=org.survey, definition=SurveyVersion.objects.get(pk=v1.pk).definition)
    do_publish(survey=org.survey)
    retired = SurveyVersion.objects.get(pk=v1.pk)
    retired.definition = {"questions": []}
    with pytest.raises(PublishedVersionIsFrozen):
        retired.save()
    assert SurveyVersion.objects.get(pk=v1.pk).definition["questions"][0]["required"] is True


def test_a_personal_link_of_a_closed_survey_gets_a_410(org):
    customer = Customer.objects.create(name="李雷", home_unit=org.store_a)
    link = do_create_link(survey=org.survey, kind=LinkKind.PERSONAL, customer=customer)
    org.survey.status = "closed"
    org.survey.save(update_fields=["status"])
    assert_clear_page(Client().get(f"/s/{link.token}", headers=EN), 410)
