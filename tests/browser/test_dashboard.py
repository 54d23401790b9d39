"""The dashboard in a real Chromium: sign in, in Chinese and in English, and drill down from a chart."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from manyi.responses.actions import check_submit_response
from tests.conftest import PASSWORD, build_org, csi_answers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


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


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(**DESKTOP, locale="zh-CN")  # a browser in China asks for Chinese
    ctx.set_default_timeout(20_000)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def scored_org(settings: Any, tmp_path: Path) -> Any:
    settings.DATA_DIR = tmp_path  # no analytics store: figures come from the database
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    org = build_org()
    org.admin.set_password(PASSWORD)
    org.admin.save(update_fields=["password"])
    now = timezone.now()
    for i in range(45):
        nps = (10, 9, 8, 3, 10)[i % 5]
        link = org.link_a if i % 3 else org.link_c
        result = check_submit_response(
            link=link,
            submission_id=uuid.uuid4(),
            data=csi_answers(nps=nps, comment="排队太久了" if nps < 7 else "服务很好，很满意"),
            language="zh-hans",
            now=now - timedelta(days=1 + i % 10, hours=2),
        )
        assert result.response is not None, result.errors
    return org


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"].primary')
    page.wait_for_url(f"{base}/")


def charts_drawn(page: Any, league: bool = True) -> None:
    for chart in ("#chart-trend", "#chart-dist", *(("#chart-league",) if league else ())):
        page.wait_for_selector(f"{chart} svg")


def test_a_manager_signs_in_in_chinese_sees_the_dashboard_and_drills_down_from_a_bar(
    live_server, desktop, scored_org
):
    page = desktop
    sign_in(page, live_server.url, scored_org.admin.username)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    charts_drawn(page)
    tiles = page.locator(".tile")
    assert tiles.count() == 4
    assert "n = 45" in tiles.first.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", page.locator("#chart-league").inner_text() or page.content())
    shot(page, "dashboard-zh.png")
    # The promoters' bar (Okabe–Ito bluish green) leads to the promoters behind it.
    bar = page.locator(
        '#chart-dist svg path[fill="#009E73" i], #chart-dist svg path[fill="rgb(0,158,115)"]'
    ).first
    bar.click()
    page.wait_for_url(re.compile(r"/responses/\?.*bucket=promoter"))
    assert "metric=nps" in page.url and "period=30d" in page.url
    shot(page, "dashboard-drilldown-zh.png")


def test_an_english_session_shows_the_dashboard_in_english_and_a_trend_point_opens_its_day(
    live_server, desktop, scored_org
):
    page = desktop
    sign_in(page, live_server.url, scored_org.admin.username)
    page.click('form.langswitch button[value="en"]')
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    charts_drawn(page)
    assert page.get_by_role("heading", name=re.compile("Promoters, passives and detractors")).is_visible()
    assert page.locator("#chart-league").inner_text() is not None
    shot(page, "dashboard-en.png")
    # The same figures are in the table behind each chart, with links that work without a canvas.
    page.locator("#trend-h ~ details summary").click()
    first_day = page.locator("#trend-h ~ details tbody a").first
    href = first_day.get_attribute("href")
    assert href and "period=custom" in href and "from=" in href
    first_day.click()
    page.wait_for_url(re.compile(r"/responses/\?.*period=custom"))


def test_a_store_manager_sees_only_their_store_on_the_dashboard(live_server, desktop, scored_org):
    org = scored_org
    org.manager_a.set_password(PASSWORD)
    org.manager_a.save(update_fields=["password"])
    page = desktop
    sign_in(page, live_server.url, org.manager_a.username)
    charts_drawn(page, league=False)  # a store has no units below it to rank
    body = page.content()
    assert "成都一店" not in body and "Chengdu 1" not in body
    assert "n = 30" in page.locator(".tile").first.inner_text()  # two of every three answers were at store A
