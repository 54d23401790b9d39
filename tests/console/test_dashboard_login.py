"""Signing in to the console: argon2 hashes, lockout after repeated failures, time zone, language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from manyi.org.actions import do_create_staff
from manyi.org.choices import Role
from tests.conftest import PASSWORD


@pytest.fixture
def axes_on(settings: Any) -> None:
    settings.AXES_ENABLED = True


def failed_attempts(client: Client, username: str, times: int) -> list[int]:
    return [
        client.post("/login/", {"username": username, "password": "wrong-password"}).status_code
        for _ in range(times)
    ]


@pytest.mark.django_db
def test_staff_passwords_are_stored_as_argon2_hashes(org, settings):
    settings.PASSWORD_HASHERS = [  # the production list (tests/console/conftest.py swaps in MD5)
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = do_create_staff(username="new-cx", password=PASSWORD, unit=org.company, role=Role.CX_MANAGER)
    assert user.password.startswith("argon2$")


@pytest.mark.django_db
def test_five_failed_sign_ins_lock_the_account_with_a_page_in_both_languages(org, axes_on):
    client = Client()
    statuses = failed_attempts(client, org.manager_a.username, 5)
    assert statuses[:4] == [200, 200, 200, 200]  # the form again, with its error
    assert statuses[4] == 429
    # Even the right password is refused while locked, and the page says why and for how long.
    resp = client.post("/login/", {"username": org.manager_a.username, "password": PASSWORD})
    assert resp.status_code == 429
    body = resp.content.decode()
    assert 'lang="zh-hans"' in body and 'lang="en"' in body
    assert "5 failed sign-in attempts" in body
    assert "15 minutes" in body
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_holds_for_the_account_and_for_the_address_not_for_others(org, axes_on):
    failed_attempts(Client(REMOTE_ADDR="10.0.0.1"), org.manager_a.username, 5)
    # The same account from elsewhere stays locked (no guessing from a second address)…
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    assert (
        elsewhere.post("/login/", {"username": org.manager_a.username, "password": PASSWORD}).status_code
        == 429
    )
    # …and so does the address (no spraying one password over many accounts)…
    same_address = Client(REMOTE_ADDR="10.0.0.1")
    assert (
        same_address.post("/login/", {"username": org.manager_c.username, "password": PASSWORD}).status_code
        == 429
    )
    # …but another account from another address signs in.
    other = Client(REMOTE_ADDR="10.0.0.3")
    assert (
        other.post("/login/", {"username": org.manager_c.username, "password": PASSWORD}).status_code == 302
    )


@pytest.mark.django_db
def test_a_successful_sign_in_before_the_limit_clears_the_failures(org, axes_on):
    client = Client()
    failed_attempts(client, org.manager_a.username, 4)
    assert (
        client.post("/login/", {"username": org.manager_a.username, "password": PASSWORD}).status_code == 302
    )
    client.post("/logout/")
    assert failed_attempts(client, org.manager_a.username, 4) == [200, 200, 200, 200]


@pytest.mark.django_db
def test_the_dashboard_shows_times_in_the_readers_unit_time_zone(org):
    west = do_create_staff(
        username="west-mgr", password=PASSWORD, unit=org.other_region, role=Role.UNIT_MANAGER
    )
    client = Client()
    client.force_login(west)  # the West region keeps Asia/Urumqi time
    assert "Asia/Urumqi" in client.get("/").content.decode()
    other = Client()
    other.force_login(org.manager_a)
    assert "Asia/Shanghai" in other.get("/").content.decode()
