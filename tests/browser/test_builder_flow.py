"""The whole loop in a real Chromium, in Chinese and in English: sign in, build a survey, publish it,
answer it on a phone, and find the answer in the responses table (and behind the dashboard)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from manyi.responses.models import Response
from manyi.surveys.choices import LinkKind, VersionStatus
from manyi.surveys.models import Survey, SurveyLink
from tests.conftest import PASSWORD, build_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP: dict[str, Any] = {"viewport": {"width": 1400, "height": 1000}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

#: The words each language uses on the pages this test drives.
WORDS = {
    "zh-hans": {"locale": "zh-CN", "accept": "zh-CN,zh;q=0.9"},
    "en": {"locale": "en-GB", "accept": "en-GB,en;q=0.9"},
}


@pytest.fixture(scope="module")
def browser(django_db_setup: Any) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make browsers)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def sign_in(browser: Any, base: str, lang: str, username: str) -> Any:
    ctx = browser.new_context(**DESKTOP, locale=WORDS[lang]["locale"])
    # Generous: the first response page loads the text models, and CI machines are shared.
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.goto(f"{base}/login/")
    # The language switch in the top bar is the same on every page, signed in or not.
    page.locator(f'form.langswitch button[value="{lang}"]').click()
    page.wait_for_load_state()
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    expected = "zh-Hans" if lang == "zh-hans" else "en"
    assert page.locator("html").get_attribute("lang") == expected
    return page


def fill_question(page: Any, code: str, zh: str, en: str) -> None:
    item = page.locator(f"#q-{code}")
    item.locator("details").wait_for()
    if item.locator("details").get_attribute("open") is None:
        item.locator("summary").click()
    item.locator(f'input[name="q-{code}-label_zh"]').fill(zh)
    item.locator(f'input[name="q-{code}-label_en"]').fill(en)


def save_question(page: Any, code: str, new_code: str | None = None) -> None:
    item = page.locator(f"#q-{code}")
    with page.expect_response(re.compile(r"/build/questions/")):
        item.locator(".qform button[type=submit]").click()
    page.wait_for_selector(f"#q-{new_code or code}")


def add_question(page: Any, qtype: str) -> None:
    page.locator('select[name="type"]').select_option(qtype)
    with page.expect_response(re.compile(r"/build/$")):
        page.locator("form.row-form button[type=submit]").click()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_build_publish_answer_and_find_the_answer(live_server: Any, browser: Any, lang: str) -> None:
    org = build_org()
    base = live_server.url
    page = sign_in(browser, base, lang, org.admin.username)
    slug = f"visit-{lang}"

    # Build: a blank survey, an NPS question and a comment shown only to detractors.
    page.goto(f"{base}/surveys/new/")
    page.locator('input[name="name_zh"]').fill("到店回访")
    page.locator('input[name="name_en"]').fill("After your visit")
    page.locator('input[name="slug"]').fill(slug)
    page.locator("form.panel button[type=submit]").click()
    page.wait_for_url(re.compile(r"/build/$"))
    survey = Survey.objects.get(slug=slug)
    add_question(page, "nps")
    fill_question(page, "nps", "您会推荐我们吗？", "Would you recommend us?")
    page.locator('input[name="q-nps-required"]').check()
    save_question(page, "nps")
    add_question(page, "text")
    fill_question(page, "q2", "哪里让您失望了？", "What let you down?")
    page.locator('input[name="q-q2-code"]').fill("why")
    page.locator('select[name="q-q2-show_if_question"]').select_option("nps")
    page.locator('select[name="q-q2-show_if_op"]').select_option("lte")
    page.locator('input[name="q-q2-show_if_value"]').fill("6")
    save_question(page, "q2", "why")
    assert page.locator("#checklist .ok-text").is_visible()
    # The phone-size preview shows the draft, and its display logic works there too.
    frame = page.frame_locator("#preview")
    expected_label = "您会推荐我们吗？" if lang == "zh-hans" else "Would you recommend us?"
    frame.locator("#q-nps legend").filter(has_text=expected_label).wait_for()
    # Each save reloads the preview: wait for the document that has the last save's question
    # (its code is "why" only after that save), or the click below lands on a page being replaced.
    frame.locator("#q-why").wait_for(state="attached")
    assert frame.locator("#q-why").is_hidden()
    frame.locator('input[name="q_nps"][value="3"]').check()
    frame.locator("#q-why").wait_for(state="visible", timeout=5000)
    shot(page, f"builder-edit-{lang}.png")

    # Publish, then make the stores' QR links.
    page.goto(f"{base}/surveys/{survey.pk}/build/publish/")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/distribute/"))
    assert survey.versions.get(number=1).status == VersionStatus.PUBLISHED
    page.locator('input[name="action"][value="unit_links"] ~ button').click()
    page.wait_for_url(re.compile(r"made=3"))
    shot(page, f"builder-distribute-{lang}.png")
    link = SurveyLink.objects.get(survey=survey, kind=LinkKind.UNIT, unit=org.store_a)
    assert link.token in page.content()

    # Answer on a phone in the same language.
    phone = browser.new_context(**PHONE, locale=WORDS[lang]["locale"]).new_page()
    phone.goto(f"{base}/s/{link.token}")
    phone.locator('input[name="q_nps"][value="4"]').check()
    phone.locator('textarea[name="q_why"]').fill(f"排队太久了 {lang}")
    phone.locator("button.submit").click()
    phone.wait_for_url(re.compile(r"/thanks/"))
    r = Response.objects.get(survey=survey)
    assert (r.nps, r.comment, r.language) == (4, f"排队太久了 {lang}", lang)
    phone.context.close()

    # The answer in the responses table, filtered to the survey and to detractors, and in full.
    page.goto(f"{base}/responses/?survey={survey.pk}&bucket=detractor")
    row = page.locator("#responses-table tbody tr").first
    assert f"排队太久了 {lang}" in row.inner_text()
    shot(page, f"responses-{lang}.png")
    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf"/responses/{r.pk}/$"))
    assert page.locator("#comment").inner_text().strip() == f"排队太久了 {lang}"
    shot(page, f"response-detail-{lang}.png")

    # From the dashboard: its NPS tile leads to the responses behind the number.
    page.goto(f"{base}/?survey={survey.pk}")
    tile = page.locator('[data-metric="nps"] .kpi-value a')
    assert tile.count() == 1, "the NPS tile has no number to drill into"
    tile.click()
    page.wait_for_url(re.compile(r"/responses/"))
    assert f"排队太久了 {lang}" in page.locator("#responses-table").inner_text()
    shot(page, f"drilldown-{lang}.png")
    page.context.close()
