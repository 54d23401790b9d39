"""axe-core accessibility checks on the console's main pages, in Chinese and in English.

axe-core (vendored in ``tests/browser/vendor/``, never served by the app) is injected into each page.
Serious and critical WCAG 2 A/AA violations fail the test on the pages listed in ``STRICT``; on the
others they are written to ``test-artifacts/axe-<lang>.json`` for their owners to fix.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from manyi.responses.actions import check_submit_response
from tests.conftest import PASSWORD, build_org, csi_answers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SERIOUS = ("serious", "critical")


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


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_main_console_pages_have_no_serious_accessibility_violations(
    live_server: Any, browser: Any, lang: str
) -> None:
    org = build_org()
    response = check_submit_response(
        link=org.link_a, submission_id=uuid.uuid4(), data=csi_answers(nps=3, comment="等了一个小时，服务员态度很差"),
        language=lang,
    ).response  # fmt: skip
    assert response is not None
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": base}])
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    login_violations = _check(page, f"{base}/login/")
    page.locator('input[name="username"]').fill(org.admin.username)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    strict = {
        "login": login_violations,
        "responses": _check(page, f"{base}/responses/"),
        "response": _check(page, f"{base}/responses/{response.pk}/"),
        "builder-new": _check(page, f"{base}/surveys/new/"),
        "builder-edit": _check(page, f"{base}/surveys/{org.survey.pk}/build/"),
        "builder-publish": _check(page, f"{base}/surveys/{org.survey.pk}/build/publish/"),
        "builder-distribute": _check(page, f"{base}/surveys/{org.survey.pk}/distribute/"),
        "preview": _check(page, f"{base}/surveys/{org.survey.pk}/build/preview/"),
        "jobs": _check(page, f"{base}/jobs/", f"jobs-{lang}.png"),
        "import": _check(page, f"{base}/imports/new/", f"import-{lang}.png"),
        # The unit picker (a tree of links with its search) and the account menu, opened.
        "responses-menus-open": _check(
            page, f"{base}/responses/?unit_q=Shanghai", opened=("#f-unit", ".account")
        ),
    }
    reported = {
        "home": _check(page, f"{base}/"),
        "surveys": _check(page, f"{base}/surveys/"),
        "cases": _check(page, f"{base}/cases/"),
        "feedback": _check(page, f"{base}/feedback/"),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{lang}.json").write_text(
        json.dumps({"strict": strict, "reported": reported}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    ctx.close()
    failing = {name: v for name, v in strict.items() if v}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=1)


def _check(page: Any, url: str, shot: str = "", opened: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    for selector in opened:
        page.locator(selector).evaluate("el => { el.open = true; }")
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return axe_violations(page)
