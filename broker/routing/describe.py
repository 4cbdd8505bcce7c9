"""Routes in words, as the CLI (``stuf-broker check``) and the dashboard show them."""

from __future__ import annotations

from broker.routing.config import Route, RoutesFile


def route_words(route: Route) -> dict[str, str]:
    """operations, zenders, zaaktypen (``any`` when the route does not select on them), deliver to."""
    return {"operations": ", ".join(route.operations),
            "zenders": ", ".join(route.zenders) or "any",
            "zaaktypen": ", ".join(route.zaaktypen) or "any",
            "deliver": ", ".join(f"{d.target} ({d.mode})" for d in route.deliver)}


def routes_table(routes: RoutesFile) -> list[dict[str, str]]:
    """Every route in the order they are tried (the first that matches a message decides)."""
    return [{"number": str(i), **route_words(r)} for i, r in enumerate(routes.routes, 1)]
