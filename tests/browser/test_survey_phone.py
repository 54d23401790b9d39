"""Answering the public survey on a phone, in Chinese and in English, in a real Chromium."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from manyi.responses.models import Response, ResponseDraft
from tests.conftest import build_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
CJK = re.compile(r"[\u4e00-\u9fff]")
MATRIX_ROWS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")


@pytest.fixture(scope="module")
def browser(django_db_setup: Any) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make browsers)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the tests' own ORM calls stay sync.
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A new phone-sized context per test; call it with context options (locale, java_script_enabled)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        ctx = browser.new_context(**{**PHONE, **options})
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def pick(page: Any, name: str, value: str, *, touch: bool = True) -> None:
    """Choose a radio or checkbox the way a thumb does: on its visible box."""
    box = page.locator(f'input[name="{name}"][value="{value}"]')
    if touch:
        box.tap()
    else:
        box.check()
    assert box.is_checked()


def answer_store_csi(page: Any, *, nps: str = "9", comment: str = "", touch: bool = True) -> None:
    pick(page, "q_nps", nps, touch=touch)
    pick(page, "q_csat", "4", touch=touch)
    for row in MATRIX_ROWS:
        pick(page, f"q_csi__{row}", "4", touch=touch)
    if comment:
        page.locator('textarea[name="q_comment"]').fill(comment)
    pick(page, "q_contact_ok", "yes", touch=touch)


def wait_for(predicate: Any, page: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        page.wait_for_timeout(100)


def nps_scale_positions(page: Any) -> list[tuple[str, float, float]]:
    labels = page.locator("#q-nps .scale label")
    out = []
    for i in range(labels.count()):
        label = labels.nth(i)
        box = label.bounding_box()
        out.append((label.inner_text().strip(), box["x"], box["y"]))
    return out


def assert_fits_phone(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    for i, (_text, x, _y) in enumerate(nps_scale_positions(page)):
        assert x >= 0, f"NPS point {i} starts off screen"
    last = page.locator("#q-nps .scale label").last.bounding_box()
    assert last["x"] + last["width"] <= 390, "the NPS scale is wider than the phone"


def assert_scale_left_to_right(page: Any) -> None:
    points = nps_scale_positions(page)
    assert [p[0] for p in points] == [str(v) for v in range(11)]
    xs = [p[1] for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 11, "the 0..10 scale must run left to right"
    assert len({round(p[2]) for p in points}) == 1, "the NPS scale must fit on one row"


def test_a_chinese_phone_answers_the_store_survey_and_lands_on_the_chinese_thanks(live_server, phone):
    org = build_org()
    page = phone(locale="zh-CN")  # Accept-Language: zh-CN
    url = f"{live_server.url}/s/{org.link_a.token}"
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("h1").inner_text() == "门店服务评价"
    assert "请根据本次到店体验评分。" in page.content()
    assert page.locator("#q-nps legend").inner_text().startswith("您有多大可能向朋友或同事推荐我们？")
    assert page.locator("#q-nps .ends").inner_text().split() == ["完全不可能", "极有可能"]
    assert "上海一店" in page.locator(".unit").inner_text()
    assert_scale_left_to_right(page)
    assert_fits_phone(page)

    # An invalid submit (only the first question answered) shows the message at each question.
    pick(page, "q_nps", "6")
    page.locator("button.submit").tap()
    page.wait_for_selector("#form-errors")
    assert page.locator("#q-csat .err").is_visible()
    assert page.locator("#q-csi .err").is_visible()
    assert page.locator("#q-nps .err").count() == 0
    assert page.locator('input[name="q_nps"][value="6"]').is_checked()  # kept
    assert page.locator("#q-csat").get_attribute("aria-invalid") == "true"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert Response.objects.count() == 0

    answer_store_csi(page, nps="6", comment="店员很热情，但排队时间有点长。")
    shot(page, "survey-phone-zh.png")
    page.locator("button.submit").dblclick()
    page.wait_for_url(re.compile(r"/thanks/"))
    assert page.locator("h1").inner_text() == "感谢您的评价！"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    shot(page, "thanks-phone-zh.png")
    r = Response.objects.get()
    assert (r.language, r.nps, r.csat, r.comment) == ("zh-hans", 6, 4, "店员很热情，但排队时间有点长。")


def test_an_english_phone_answers_the_store_survey_and_lands_on_the_english_thanks(live_server, phone):
    org = build_org()
    page = phone(locale="zh-CN")  # the phone says Chinese, the link asks for English
    page.goto(f"{live_server.url}/s/{org.link_b.token}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Rate our store"
    assert (
        page.locator("#q-nps legend")
        .inner_text()
        .startswith("How likely are you to recommend us to a friend or colleague?")
    )
    assert page.locator("#q-nps .ends").inner_text().split("\n") == ["Not at all likely", "Extremely likely"]
    assert page.locator("button.submit").inner_text() == "Submit"
    assert not CJK.search(page.locator("form").inner_text()), "Chinese text on the English form"
    assert_scale_left_to_right(page)
    assert_fits_phone(page)

    page.locator("button.submit").tap()  # nothing answered
    page.wait_for_selector("#form-errors")
    assert page.locator("#q-nps .err").inner_text() == "This question needs an answer."
    assert page.locator("html").get_attribute("lang") == "en"

    answer_store_csi(page, nps="10", comment="Quick and friendly.")
    shot(page, "survey-phone-en.png")
    page.locator("button.submit").dblclick()
    page.wait_for_url(re.compile(r"/thanks/"))
    assert page.locator("h1").inner_text() == "Thank you for your rating!"
    assert "Your answers have been received." in page.content()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "thanks-phone-en.png")
    r = Response.objects.get()
    assert (r.language, r.nps, r.unit_id) == ("en", 10, org.store_b.pk)


def test_the_chinese_page_shows_its_interface_texts_in_chinese_too(live_server, phone):
    """Survey content comes from the database in both languages; the button, yes/no and messages too."""
    org = build_org()
    page = phone(locale="zh-CN")
    page.goto(f"{live_server.url}/s/{org.link_a.token}")
    button = page.locator("button.submit").inner_text()
    assert CJK.search(button), f"the submit button reads {button!r} on the Chinese page"
    for where in ("#q-contact_ok .stack", "#q-sq_wait .mlabel >> nth=0", "form p.muted"):
        text = page.locator(where).inner_text()
        assert CJK.search(text), f"{where} reads {text!r} on the Chinese page"
    page.locator("button.submit").tap()
    page.wait_for_selector("#form-errors")
    for where in ("#form-errors", "#q-nps .err"):
        text = page.locator(where).inner_text()
        assert CJK.search(text), f"{where} reads {text!r} on the Chinese page"


def test_reasons_are_asked_only_after_a_score_of_eight_or_less(live_server, phone):
    org = build_org("relational_nps")
    page = phone(locale="en-US")
    page.goto(f"{live_server.url}/s/{org.link_a.token}")
    reasons = page.locator("#q-reasons")
    assert page.locator("h1").inner_text() == "Your opinion matters to us"
    assert reasons.is_hidden()  # nothing scored yet
    for score, shown in (("9", False), ("8", True), ("10", False), ("0", True), ("3", True), ("9", False)):
        pick(page, "q_nps", score)
        assert reasons.is_visible() is shown, f"reasons visible={not shown} after a score of {score}"
    # Reasons picked while visible are dropped when the score then rises above 8.
    pick(page, "q_nps", "5")
    pick(page, "q_reasons", "wait")
    pick(page, "q_nps", "10")
    assert reasons.is_hidden()
    page.locator("button.submit").tap()
    page.wait_for_url(re.compile(r"/thanks/"))
    r = Response.objects.get()
    assert r.nps == 10
    assert not r.answers.filter(question_code="reasons").exists()


def test_answers_typed_on_a_phone_come_back_after_a_reload(live_server, phone):
    org = build_org()
    page = phone(locale="en-GB")
    page.goto(f"{live_server.url}/s/{org.link_a.token}?lang=en")
    sid = page.locator('input[name="sid"]').input_value()
    pick(page, "q_nps", "7")
    pick(page, "q_csat", "2")
    pick(page, "q_csi__empathy", "3")
    page.locator('textarea[name="q_comment"]').fill("The fitting room was closed.")

    def saved() -> bool:
        draft = ResponseDraft.objects.filter(submission_id=sid).first()
        return draft is not None and draft.answers.get("q_comment") == "The fitting room was closed."

    wait_for(saved, page)
    page.reload()
    assert page.locator('input[name="sid"]').input_value() == sid
    assert page.locator('input[name="q_nps"][value="7"]').is_checked()
    assert page.locator('input[name="q_csat"][value="2"]').is_checked()
    assert page.locator('input[name="q_csi__empathy"][value="3"]').is_checked()
    assert page.locator('textarea[name="q_comment"]').input_value() == "The fitting room was closed."
    assert page.locator("html").get_attribute("lang") == "en"

    # Finish after the reload: one response, with what was typed before it.
    answer_store_csi(page, nps="7")
    page.locator("button.submit").tap()
    page.wait_for_url(re.compile(r"/thanks/"))
    r = Response.objects.get()
    assert (str(r.submission_id), r.nps, r.comment) == (sid, 7, "The fitting room was closed.")
    assert ResponseDraft.objects.count() == 0


def test_the_survey_can_be_completed_with_javascript_off(live_server, phone):
    org = build_org("relational_nps")
    page = phone(locale="zh-CN", java_script_enabled=False)
    page.goto(f"{live_server.url}/s/{org.link_a.token}")
    assert page.locator("h1").inner_text() == "您的意见对我们很重要"
    # Without the script every question shows; the server applies the display logic.
    assert page.locator("#q-reasons").is_visible()
    assert_scale_left_to_right(page)
    page.locator('input[name="q_nps"][value="4"]').check()
    page.locator('input[name="q_reasons"][value="wait"]').check()
    page.locator('input[name="q_reasons"][value="other"]').check()
    page.locator('input[name="q_reasons__other"]').fill("停车不方便")
    page.locator('textarea[name="q_comment"]').fill("下次再来")
    shot(page, "survey-phone-zh-nojs.png")
    # No script guards the button: both clicks reach the server, which stores one response.
    page.locator("button.submit").dblclick()
    page.wait_for_url(re.compile(r"/thanks/"))
    assert page.locator("h1").inner_text() == "感谢您的反馈！"
    r = Response.objects.get()
    assert (r.nps, r.comment, r.language) == (4, "下次再来", "zh-hans")
    reasons = r.answers.get(question_code="reasons")
    assert reasons.choices == ["wait", "other"]
    assert r.answers.get(question_code="reasons.other").text == "停车不方便"
