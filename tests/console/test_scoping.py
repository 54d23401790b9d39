"""A store manager cannot read another store by changing an id.

Every URL of the console is found by walking the URL resolver, not by a hand-kept list, so a new
page is covered the day it is added: a URL with parameters must have an entry in ``probes`` (else
``test_every_console_url_with_parameters_has_probes`` fails), and each entry is requested with the ids
of store C's records by the manager of store A (must be 404) and by the company admin (must be 200,
proving the ids are real).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.cases.probes import case_probes
from tests.notifications.scoping import notification_probes
from tests.rules.probes import rule_probes

from .conftest import A_MARK, C_LEAKS, C_SECRET, World, login
from .probes_builder import builder_probes, job_probes

NAMESPACE = "console"


@dataclass(frozen=True)
class ConsoleUrl:
    name: str  # "console:unit_detail"
    params: tuple[str, ...]


def _params(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters is not None:  # path()
        return tuple(converters)
    return tuple(pattern.regex.groupindex)  # re_path()


def console_urls() -> list[ConsoleUrl]:
    """Every URL pattern under the console namespace, with the parameters its path takes."""
    found: list[ConsoleUrl] = []

    def walk(patterns: list[Any], namespace: str, params: tuple[str, ...]) -> None:
        for p in patterns:
            here = params + _params(p.pattern)
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, ns, here)
            elif isinstance(p, URLPattern) and (
                namespace == NAMESPACE or namespace.startswith(NAMESPACE + ":")
            ):
                assert p.name, f"console URL {p.pattern} has no name; every console URL needs one"
                found.append(ConsoleUrl(f"{namespace}:{p.name}", here))

    walk(get_resolver().url_patterns, "", ())
    return found


def probes(w: World) -> dict[str, tuple[list[dict[str, int]], list[dict[str, int]]]]:
    """For each URL with parameters: (store A's own ids, store C's ids)."""
    a, c, org = w.a, w.c, w.org
    qr = (
        [
            {"pk": org.survey.pk, "link_pk": org.link_a.pk},
            {"pk": a.survey.pk, "link_pk": a.survey_link.pk},
        ],
        [
            {"pk": org.survey.pk, "link_pk": org.link_c.pk},
            {"pk": c.survey.pk, "link_pk": c.survey_link.pk},
        ],
    )
    return {
        "console:unit_detail": (
            [{"pk": org.store_a.pk}],
            [{"pk": org.store_c.pk}, {"pk": org.other_region.pk}],
        ),
        "console:survey_detail": ([{"pk": a.survey.pk}], [{"pk": c.survey.pk}]),
        "console:survey_drivers": ([{"pk": a.survey.pk}, {"pk": org.survey.pk}], [{"pk": c.survey.pk}]),
        "console:survey_link_qr_svg": qr,
        "console:survey_link_qr_png": qr,
        "console:response_detail": (
            [{"pk": a.response.pk}, {"pk": w.visiting_response.pk}],
            [{"pk": c.response.pk}],
        ),
        "console:feedback_detail": ([{"pk": a.feedback.pk}], [{"pk": c.feedback.pk}]),
        "console:customer_detail": ([{"pk": a.customer.pk}], [{"pk": c.customer.pk}]),
        **case_probes(w, C_SECRET),
        **notification_probes(w, A_MARK, C_SECRET),
        **rule_probes(w),
        **builder_probes(w),
        **job_probes(w),
    }


def ids_for(table: dict[str, Any], url: ConsoleUrl, side: int) -> list[dict[str, int]]:
    """Store A's (side 0) or store C's (side 1) ids for a URL; fails clearly when it has none."""
    if not url.params:
        return [{}]
    if url.name not in table:
        pytest.fail(f"{url.name} takes {url.params} but has no entry in probes(); add one")
    return list(table[url.name][side])


def assert_no_leak(resp: Any, url: str) -> None:
    raw = b"".join(resp.streaming_content) if resp.streaming else resp.content  # downloads too
    body = raw.decode(errors="replace")
    for leak in C_LEAKS:
        assert leak not in body, f"{url} shows store C's data ({leak!r}) to the manager of store A"


def test_the_walk_finds_the_console_pages():
    names = {u.name for u in console_urls()}
    assert {"console:home", "console:response_list", "console:response_detail", "console:login"} <= names


@pytest.mark.django_db
def test_every_console_url_with_parameters_has_probes(world):
    with_params = {u.name: u.params for u in console_urls() if u.params}
    table = probes(world)
    missing = sorted(set(with_params) - set(table))
    assert not missing, (
        f"console URLs {missing} take ids but tests/console/test_scoping.py has no probes for them: "
        "add store A's and store C's ids to probes()"
    )
    for name, params in with_params.items():
        for kwargs in table[name][0] + table[name][1]:
            assert set(kwargs) == set(params), f"probe for {name} must give exactly {params}"


@pytest.mark.django_db
def test_store_manager_gets_404_for_every_id_of_another_store(world):
    client = login(world.org.manager_a)
    table = probes(world)
    for u in console_urls():
        if not u.params:
            continue
        for kwargs in ids_for(table, u, 1):
            url = reverse(u.name, kwargs=kwargs)
            resp = client.get(url)
            assert resp.status_code == 404, f"{url} answered {resp.status_code} to the manager of store A"
            assert_no_leak(resp, url)


@pytest.mark.django_db
def test_the_probed_ids_of_store_c_are_real_pages_for_the_company_admin(world):
    client = login(world.org.admin)
    table = probes(world)
    for u in console_urls():
        for kwargs in table.get(u.name, ([], []))[1]:
            url = reverse(u.name, kwargs=kwargs)
            assert client.get(url).status_code == 200, f"{url} should open for the company admin"


@pytest.mark.django_db
def test_store_managers_own_pages_open_and_show_nothing_of_store_c(world):
    client = login(world.org.manager_a)
    table = probes(world)
    for u in console_urls():
        for kwargs in table.get(u.name, ([], []))[0]:
            url = reverse(u.name, kwargs=kwargs)
            resp = client.get(url)
            assert resp.status_code == 200, f"{url} should open for the manager of store A"
            assert_no_leak(resp, url)


@pytest.mark.django_db
def test_every_page_without_ids_shows_nothing_of_another_store(world):
    client = login(world.org.manager_a)
    c = world.c
    # Query parameters a future filter might read must not open a door either.
    queries = [
        "",
        "?page=2",
        f"?unit={world.org.store_c.pk}",
        f"?survey={c.survey.pk}&customer={c.customer.pk}",
    ]
    for u in console_urls():
        if u.params:
            continue
        for q in queries:
            url = reverse(u.name) + q
            resp = client.get(url)
            assert resp.status_code in (200, 405), f"{url} answered {resp.status_code}"  # logout is POST only
            assert_no_leak(resp, url)


@pytest.mark.django_db
def test_list_pages_of_store_a_show_store_a_records(world):
    client = login(world.org.manager_a)
    for name in ("console:home", "console:response_list", "console:feedback_list", "console:case_list"):
        body = client.get(reverse(name)).content.decode()
        assert A_MARK in body, f"{name} should list store A's own records"


@pytest.mark.django_db
def test_admin_of_the_company_sees_both_stores(world):
    client = login(world.org.admin)
    for name in ("console:response_list", "console:feedback_list", "console:case_list"):
        body = client.get(reverse(name)).content.decode()
        assert A_MARK in body and C_SECRET in body, name
    units = client.get(reverse("console:unit_list")).content.decode()
    assert "上海一店" in units and "成都一店" in units
    for url in (
        reverse("console:response_detail", args=[world.c.response.pk]),
        reverse("console:customer_detail", args=[world.c.customer.pk]),
        reverse("console:survey_detail", args=[world.c.survey.pk]),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_from_every_console_page(world):
    client = Client()
    table = probes(world)
    login_url = reverse("console:login")
    for u in console_urls():
        if u.name in ("console:login", "console:logout"):
            continue
        for kwargs in ids_for(table, u, 1)[:1]:
            url = reverse(u.name, kwargs=kwargs)
            resp = client.get(url)
            assert resp.status_code == 302, f"{url} answered {resp.status_code} to an anonymous visitor"
            assert resp["Location"].startswith(login_url + "?next="), url


@pytest.mark.django_db
def test_response_of_a_visiting_customer_does_not_reveal_that_customer(world):
    client = login(world.org.manager_a)
    body = client.get(reverse("console:response_detail", args=[world.visiting_response.pk])).content.decode()
    assert "visiting customer" in body
    assert C_SECRET not in body
