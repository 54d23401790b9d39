"""The unit filter as a tree within the reader's scope, with a search for chains of thousands of units.

A unit is picked by following a link: the page reloads with ``unit=<id>`` and every other filter as
it was applied. The tree shows the reader's top units with their children, and the path down to the
unit in use opened; any other branch opens on demand (``<details>``: with htmx its children are
fetched from :func:`manyi.console.views.unit_picker` when it is opened, without JavaScript picking a
unit opens its branch). The search matches names in either language and codes, within scope only.
Every read starts from ``OrgUnit.objects.visible_to(user)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from manyi.org.models import OrgUnit

#: The pages whose filter form carries the picker: what their links lead back to.
PAGES = {"home": "console:home", "responses": "console:response_list"}
#: Query parameters a picked unit drops: the unit itself, the search, and paging positions.
DROPPED = ("unit", "unit_q", "after", "before", "page", "to_page")
SEARCH_LIMIT = 30
QUERY_MAX = 64
#: A branch opens by itself (the top units, the path to the unit in use) only up to this many
#: children; a flat chain of thousands of stores is reached through the search instead.
EXPAND_MAX = 100
#: Children listed when a branch is opened; past this the list says to search.
CHILDREN_MAX = 300


@dataclass
class Node:
    pk: int
    name: str
    code: str
    href: str
    current: bool
    n_children: int
    children: list[Node] = field(default_factory=list)
    open: bool = False
    cut: bool = False  # opened with only the path to the unit in use among too many children
    trail: str = ""  # for search results: the names of the ancestors in scope, top first


@dataclass
class Picker:
    page: str
    keep: str  # the other filters, URL-encoded
    all_href: str
    current: OrgUnit | None
    roots: list[Node]
    query: str = ""
    results: list[Node] | None = None
    children_url: str = ""
    search_url: str = ""


def _keep(params: Mapping[str, Any]) -> str:
    getlist = getattr(params, "getlist", None)
    pairs: list[tuple[str, str]] = []
    for key in params:
        if key in DROPPED:
            continue
        values = getlist(key) if getlist else [params[key]]
        pairs += [(str(key), str(v)[:200]) for v in values[:5]]
    return urlencode(pairs[:40])


def _href(page: str, keep: str, unit: int | None) -> str:
    query = keep
    if unit is not None:
        query = f"{keep}&unit={unit}" if keep else f"unit={unit}"
    return reverse(PAGES[page]) + (f"?{query}" if query else "")


def _scope(user: Any) -> Any:
    return OrgUnit.objects.visible_to(user).filter(is_active=True)


def _child_counts(user: Any, parents: list[int]) -> dict[int, int]:
    rows = _scope(user).filter(parent_id__in=parents).values("parent_id").annotate(n=Count("id"))
    return {int(r["parent_id"]): int(r["n"]) for r in rows}


def _nodes(
    user: Any,
    units: list[OrgUnit],
    lang: str,
    page: str,
    keep: str,
    current: OrgUnit | None,
    counts: dict[int, int] | None = None,
) -> list[Node]:
    if counts is None:
        counts = _child_counts(user, [u.pk for u in units])
    nodes = [
        Node(
            pk=u.pk,
            name=u.display_name(lang),
            code=u.code,
            href=_href(page, keep, u.pk),
            current=current is not None and current.pk == u.pk,
            n_children=counts.get(u.pk, 0),
        )
        for u in units
    ]
    nodes.sort(key=lambda n: (n.name.casefold(), n.pk))
    return nodes


def sanitized_keep(raw: str) -> str:
    """The ``keep`` parameter of a fragment request, parsed and encoded again (never trusted as is)."""
    from django.http import QueryDict

    return _keep(QueryDict(raw[:4000]))


def children(user: Any, parent_id: int, lang: str, page: str, keep: str) -> list[Node] | None:
    """The children of a unit in scope (None when the unit is not in the reader's scope)."""
    if not _scope(user).filter(pk=parent_id).exists():
        return None
    units = list(_scope(user).filter(parent_id=parent_id).only("pk", "name", "code", "locale"))
    return _nodes(user, units, lang, page, keep, None)[:CHILDREN_MAX]


def search(user: Any, query: str, lang: str, page: str, keep: str) -> list[Node]:
    """Units in scope whose name (either language) or code contains ``query``, with their trail."""
    query = query.strip()[:QUERY_MAX]
    if not query:
        return []
    match = Q(code__icontains=query)
    for language in ("zh-hans", "en"):
        match |= Q(**{f"name__{language}__icontains": query})
    units = list(_scope(user).filter(match).order_by("depth", "path")[:SEARCH_LIMIT])
    nodes = _nodes(user, units, lang, page, keep, None)
    # Trails: the ancestors the reader may see (a store manager's trail is empty).
    ids = {int(x) for u in units for x in u.path.strip("/").split("/") if x}
    names = {a.pk: a.display_name(lang) for a in _scope(user).filter(pk__in=ids)}
    by_pk = {u.pk: u for u in units}
    for n in nodes:
        trail = [int(x) for x in by_pk[n.pk].path.strip("/").split("/") if x][:-1]
        n.trail = " › ".join(names[a] for a in trail if a in names)
    return nodes


def build(user: Any, params: Mapping[str, Any], current: OrgUnit | None, lang: str, page: str) -> Picker:
    """The picker of a filter form: top units, the path to ``current`` opened, a search if asked."""
    keep = _keep(params)
    scope = list(_scope(user).only("pk", "name", "code", "locale", "depth", "path", "parent_id"))
    top = min((u.depth for u in scope), default=0)
    pks = {u.pk for u in scope}
    roots_units = [u for u in scope if u.depth == top or u.parent_id not in pks]
    by_parent: dict[int, list[OrgUnit]] = {}
    for u in scope:
        if u.parent_id is not None and u.parent_id in pks:
            by_parent.setdefault(u.parent_id, []).append(u)
    counts = {pk: len(kids) for pk, kids in by_parent.items()}
    roots = _nodes(user, roots_units, lang, page, keep, current, counts)
    opened = set()
    if current is not None:
        opened = {int(x) for x in current.path.strip("/").split("/") if x} - {current.pk}

    def expand(nodes: list[Node], depth: int) -> None:
        for n in nodes:
            if n.n_children and (n.pk in opened or (depth == 0 and n.n_children <= EXPAND_MAX)):
                n.open = True
                kids = _nodes(user, by_parent.get(n.pk, []), lang, page, keep, current, counts)
                if len(kids) > EXPAND_MAX:
                    kids = [k for k in kids if k.pk in opened or k.current]
                    n.cut = True
                n.children = kids
                expand(n.children, depth + 1)

    expand(roots, 0)
    raw = params.get("unit_q") if hasattr(params, "get") else None
    query = str(raw or "").strip()[:QUERY_MAX]
    base = reverse("console:unit_picker")
    return Picker(
        page=page,
        keep=keep,
        all_href=_href(page, keep, None),
        current=current,
        roots=roots,
        query=query,
        results=search(user, query, lang, page, keep) if query else None,
        children_url=base + "?" + urlencode({"page": page, "keep": keep}),
        search_url=base + "?" + urlencode({"page": page, "keep": keep}),
    )
