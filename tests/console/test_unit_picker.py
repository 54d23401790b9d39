"""The unit filter's tree picker: within scope, searchable, keyboard-usable links that keep the filters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from .conftest import World, login


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def picker_links(body: str) -> list[str]:
    part = body[body.index('id="f-unit"') : body.index("</details>\n</div>", body.index('id="f-unit"'))]
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', part)]


@pytest.mark.django_db
def test_the_picker_of_a_store_manager_holds_their_store_only(world: World) -> None:
    client = login(world.org.manager_a)
    for name in ("console:home", "console:response_list"):
        body = client.get(reverse(name)).content.decode()
        assert 'id="f-unit"' in body and '<select id="f-unit"' not in body
        links = picker_links(body)
        assert any(f"unit={world.org.store_a.pk}" in h for h in links), name
        assert not any(
            f"unit={world.org.store_c.pk}" in h or f"unit={world.org.company.pk}" in h for h in links
        )
        assert "成都" not in body and "Chengdu" not in body


@pytest.mark.django_db
def test_fragments_never_show_units_outside_the_readers_scope(world: World) -> None:
    client = login(world.org.manager_a)
    url = reverse("console:unit_picker")
    for query in (
        {"parent": world.org.store_c.parent_id},
        {"parent": world.org.company.pk},
        {"q": "Chengdu"},
        {"q": "cd-001"},
        {"q": "成都"},
        {"parent": "x"},
        {"parent": "99999999"},
        {"q": "x" * 5000},
        {"page": "../admin", "keep": "unit=1&next=//evil.example"},
    ):
        resp = client.get(f"{url}?{urlencode(query)}")
        body = resp.content.decode()
        assert resp.status_code == 200, query
        assert "Chengdu 1" not in body and "成都一店" not in body and "西区" not in body, query
        assert f"unit={world.org.store_c.pk}" not in body, query
        # Links lead to the console's own pages only, whatever ``page`` and ``keep`` say.
        assert all(
            h.startswith("/?") or h.startswith("/responses/?") for h in re.findall(r'href="([^"]+)"', body)
        )


@pytest.mark.django_db
def test_a_search_finds_units_by_either_name_or_code_with_their_trail_and_keeps_the_filters(
    world: World,
) -> None:
    client = login(world.org.admin)
    url = reverse("console:unit_picker")
    keep = urlencode({"period": "90d", "channel": "qr", "unit": "5", "after": "1.2"})
    for q in ("Shanghai 2", "上海二", "SH-002"):
        body = client.get(f"{url}?{urlencode({'q': q, 'page': 'responses', 'keep': keep})}").content.decode()
        hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', body)]
        assert hrefs == [f"/responses/?period=90d&channel=qr&unit={world.org.store_b.pk}"], q
        assert "Acme › East › Shanghai" in body, q
    body = client.get(f"{url}?q=nowhere").content.decode()
    assert "No unit in your scope matches" in body


@pytest.mark.django_db
def test_the_tree_opens_the_path_to_the_unit_in_use_and_loads_other_branches_on_demand(world: World) -> None:
    client = login(world.org.admin)
    body = client.get(reverse("console:home") + f"?period=7d&unit={world.org.store_a.pk}").content.decode()
    links = picker_links(body)
    # The chosen store is reachable and marked; picking a unit keeps the period.
    assert f"/?period=7d&unit={world.org.store_a.pk}" in links
    assert re.search(rf'href="/\?period=7d&amp;unit={world.org.store_a.pk}" aria-current="true"', body)
    # The other region is closed and fetches its children when opened.
    west = world.org.store_c.parent_id
    assert f"parent={west}" in body.replace("&amp;", "&")
    frag = client.get(
        reverse("console:unit_picker") + f"?parent={west}&page=home&keep=period%3D7d"
    ).content.decode()
    assert f'href="/?period=7d&amp;unit={world.org.store_c.pk}"' in frag


@pytest.mark.django_db
def test_a_search_typed_without_javascript_comes_back_with_the_picker_open_on_its_results(
    world: World,
) -> None:
    client = login(world.org.admin)
    body = client.get(reverse("console:response_list") + "?unit_q=Chengdu").content.decode()
    assert re.search(r'<details class="unitpick" id="f-unit" open>', body)
    results = body[body.index('id="f-unit-results"') : body.index("</ul>", body.index('id="f-unit-results"'))]
    assert f"unit={world.org.store_c.pk}" in results


@pytest.mark.django_db
def test_a_flat_chain_opens_only_the_path_to_the_unit_in_use_and_points_to_the_search(
    world: World, monkeypatch: Any
) -> None:
    from manyi.console import unit_picker

    monkeypatch.setattr(unit_picker, "EXPAND_MAX", 1)  # as if the company had thousands of children
    client = login(world.org.admin)
    body = client.get(reverse("console:response_list") + f"?unit={world.org.store_a.pk}").content.decode()
    links = picker_links(body)
    assert f"/responses/?unit={world.org.store_a.pk}" in links
    assert "units here: find another with the search above." in body
    assert "West" not in body  # the other region is not listed, only found by the search
    monkeypatch.setattr(unit_picker, "CHILDREN_MAX", 1)
    frag = client.get(reverse("console:unit_picker") + f"?parent={world.org.company.pk}").content.decode()
    assert "More units than can be listed here" in frag
