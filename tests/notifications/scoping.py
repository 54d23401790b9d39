"""Store A's and store C's notification records for the console scoping walk (tests/console/test_scoping.py)."""

from __future__ import annotations

from typing import Any

from manyi.notifications.actions import do_create_endpoint, notify
from manyi.notifications.choices import EventType


def notification_probes(
    world: Any, a_mark: str, c_secret: str
) -> dict[str, tuple[list[dict[str, int]], list[dict[str, int]]]]:
    """An endpoint and a notification per store; everything of store C carries ``c_secret``."""
    ids: dict[str, tuple[int, int]] = {}
    for side, unit, mark in (("a", world.org.store_a, a_mark), ("c", world.org.store_c, c_secret)):
        ep = do_create_endpoint(
            unit=unit, name=f"hook {mark}", kind="webhook", url=f"https://93.184.215.14/{mark}"
        )
        (n,) = notify(
            EventType.CASE_OPENED,
            recipients=[],
            subject=f"case {mark}",
            body=f"body {mark}",
            context={"mark": mark},
            unit=unit,
            enqueue=False,
        )
        ids[side] = (ep.pk, n.pk)
    (ea, na), (ec, nc) = ids["a"], ids["c"]
    endpoint = ([{"pk": ea}], [{"pk": ec}])
    notification = ([{"pk": na}], [{"pk": nc}])
    return {
        "console:notification_endpoint_detail": endpoint,
        "console:notification_endpoint_test": endpoint,
        "console:notification_endpoint_rotate": endpoint,
        "console:notification_detail": notification,
        "console:notification_replay": notification,
    }
