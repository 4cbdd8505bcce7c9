"""StUF-BG afnemerindicaties: which application follows which person (broker.services.afnemerindicaties).

Everyone signed in sees the list, each BSN masked unless the role may see personal data (operators
and administrators); a BSN filter only for those roles (a viewer could otherwise test whether someone
is followed). Administrators place and remove indicaties here as with ``stuf-broker afnemers``; each
change is in the audit log with the afnemer and a digest of the BSN (the CLI's, so the entries of both
line up), never the BSN itself. A removed indicatie also stops what is still queued for that person to
that afnemer (the afnemer target checks before every attempt: broker.adapters.afnemer).
"""

from __future__ import annotations

from starlette.responses import Response

from broker.model.person import elfproef
from broker.services import afnemerindicaties
from broker.stuf.stuurgegevens import Systeem
from broker.web.dashboard import audit, bsnindex
from broker.web.dashboard.masking import BSN_MASK
from broker.web.dashboard.tables import ADMINISTRATOR, VIEWER
from broker.web.dashboard.views.common import Ctx, page

LIMIT = 500


def _render(ctx: Ctx, status: int = 200, error: str | None = None, bsn: str = "") -> Response:
    bsn = "" if ctx.masked else bsn.strip()[:9]
    with ctx.db.read() as s:
        rows = afnemerindicaties.listed(s, bsn=bsn or None)
    apps = ctx.broker.config_store.applications.all
    shown = [{"bsn": BSN_MASK if ctx.masked else r.bsn, "afnemer": r.afnemer.label(), "organisatie":
              r.afnemer.organisatie or "", "applicatie": r.afnemer.applicatie or "",
              "administratie": r.afnemer.administratie or "", "geplaatst_op": r.geplaatst_op, "bron": r.bron,
              "endpoint": any(a.afnemer is not None and a.is_zender(r.afnemer) for a in apps)}
             for r in rows[:LIMIT]]
    return ctx.render("afnemers.html", status=status, nav="afnemers", rows=shown, total=len(rows), bsn=bsn,
                      applications=[a for a in apps if not a.person_source], error=error)


@page(role=VIEWER)
def listing(ctx: Ctx) -> Response:
    return _render(ctx)


@page(role=VIEWER)
def search(ctx: Ctx) -> Response:
    """The list for one BSN: a form, so the BSN never stands in an address or an access log."""
    return _render(ctx, bsn=ctx.field("bsn"))


def _change(ctx: Ctx, action: str) -> Response:
    bsn = ctx.field("bsn")
    afnemer = Systeem(ctx.field("organisatie") or None, ctx.field("applicatie"), ctx.field("administratie") or None)
    if ctx.field("afnemer"):  # an application of applications.yaml, by its name
        app = next((a for a in ctx.broker.config_store.applications.all if a.name == ctx.field("afnemer")), None)
        if app is None:
            return _render(ctx, 400, ctx.t("Name the application."))
        afnemer = app.systeem
    if not elfproef(bsn):
        return _render(ctx, 400, ctx.t("Not a burgerservicenummer (9 digits passing the 11-proof)."))
    if not afnemer.applicatie:
        return _render(ctx, 400, ctx.t("Name the application."))
    with ctx.db.write() as s:
        if action == "place":
            changed = afnemerindicaties.place(s, bsn, afnemer, "beheerder")
        else:
            changed = afnemerindicaties.remove(s, bsn, afnemer)
        if changed:
            audit.record(s, ctx.actor, f"afnemerindicatie.{action}",
                         {"afnemer": afnemer.label(), "persoon": bsnindex.audit_digest(ctx.dashboard.bsn_key, bsn)})
    if not changed:
        ctx.flash(ctx.t("Nothing changed: {afnemer} already followed that person." if action == "place" else
                        "Nothing changed: {afnemer} did not follow that person.", afnemer=afnemer.label()), "warn")
    else:
        ctx.flash(ctx.t("Indicatie placed for {afnemer}." if action == "place" else
                        "Indicatie removed for {afnemer}.", afnemer=afnemer.label()))
    return ctx.redirect("/afnemers")


@page(role=ADMINISTRATOR)
def place(ctx: Ctx) -> Response:
    return _change(ctx, "place")


@page(role=ADMINISTRATOR)
def remove(ctx: Ctx) -> Response:
    return _change(ctx, "remove")
