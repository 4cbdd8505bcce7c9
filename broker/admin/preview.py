"""``stuf-broker mappings preview MESSAGE.xml``: what a message would become, without sending it.

The message is read and validated as the broker would, its ZDS service handler runs with the real
ZGW adapter, and every request the adapter makes goes to :class:`ImaginedApis`, an in-process
transport that records it and answers with a plausible, spec-shaped resource: the Catalogi types the
mapping and the message name, the zaak or document a message refers to, the created resource
echoed. Nothing touches the network. The result: the internal case model, the requests (method, URL,
headers without the token, body) and the answer the sender would get.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
from lxml import etree

from broker import services
from broker.adapters import registry
from broker.adapters.deps import AdapterDeps
from broker.adapters.targets import Handler
from broker.config import Settings, load_settings
from broker.errors import StufError
from broker.mappings.catalogus import Catalogus
from broker.mappings.mapping import Mappings, MappingSet
from broker.model.ports import Context
from broker.routing.config import RoutesFile, load_routes
from broker.stuf import ns, soap, xmlsafe
from broker.stuf import stuurgegevens as sgmod
from broker.stuf.schemas import SchemaSet
from broker.zds import casemodel, dispatch
from broker.zds.kern import SchemaModel
from broker.zds.request import ZdsRequest
from broker.zds.xmlutil import text

if TYPE_CHECKING:  # the ZGW adapter is imported when a preview runs (0.15 s less at every start-up)
    from broker.adapters.zgw.client import Recorded

PLACEHOLDER_URLS = {api: f"https://zgw.invalid/{api}/api/v1" for api in ("zaken", "catalogi", "documenten", "besluiten")}
_LOCK = "preview-lock"
_GENERIEK = ("initiator", "belanghebbende", "behandelaar", "zaakcoordinator", "beslisser", "adviseur",
             "mede_initiator", "klantcontacter")


def _values(body: etree._Element, *names: str) -> list[str]:
    return sorted({(e.text or "").strip() for e in body.iter() if isinstance(e.tag, str)
                   and ns.local(e.tag) in names and (e.text or "").strip()})


class ImaginedApis(httpx.BaseTransport):
    """Answers every ZGW request in process with a plausible resource, and keeps nothing."""

    def __init__(self, urls: dict[str, str], message: etree._Element, operation: str, mappings: Mappings,
                 catalogus: Catalogus) -> None:
        self.urls = {k: v.rstrip("/") for k, v in urls.items()}
        self.message = message
        self.operation = operation
        self.mappings = mappings
        self.catalogus = catalogus
        self.known: dict[str, dict[str, Any]] = {}

    # -- making things up ----------------------------------------------------------------------
    def _url(self, api: str, kind: str, key: str) -> str:
        return f"{self.urls[api]}/{kind}/{uuid.uuid5(uuid.NAMESPACE_URL, f'{kind}:{key}')}"

    def _keep(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.known[obj["url"]] = obj
        return obj

    def _zaaktype(self, identificatie: str) -> dict[str, Any]:
        url = self._url("catalogi", "zaaktypen", identificatie)
        if url in self.known:
            return self.known[url]
        code = self.mappings.zds_zaaktype(identificatie)
        mapping = self.mappings.zaaktype(code)
        iots = set(mapping.informatieobjecttypen.values()) | set(_values(self.message, "dct.omschrijving"))
        bsts = set(mapping.besluittypen.values()) | set(_values(self.message, "bst.omschrijving"))
        zaaktype = self._keep({"url": url, "identificatie": identificatie, "omschrijving": identificatie,
                               "beginGeldigheid": "2000-01-01", "eindeGeldigheid": None, "versiedatum": "2000-01-01",
                               "informatieobjecttypen": [self._type("informatieobjecttypen", o, url) for o in sorted(iots)],
                               "besluittypen": [self._type("besluittypen", o, url) for o in sorted(bsts)]})
        return zaaktype

    def _type(self, kind: str, omschrijving: str, zaaktype: str, **extra: Any) -> str:
        url = self._url("catalogi", kind, f"{zaaktype}:{omschrijving}")
        self._keep({"url": url, "omschrijving": omschrijving, "zaaktype": zaaktype,
                    "vertrouwelijkheidaanduiding": "openbaar", **extra})
        return url

    def _catalogi_list(self, kind: str, query: dict[str, str]) -> list[dict[str, Any]]:
        if kind == "zaaktypen":
            return [self._zaaktype(query.get("identificatie", "zaaktype"))]
        zaaktype = self.known.get(query.get("zaaktype", ""), {})
        code = self.mappings.zds_zaaktype(zaaktype.get("identificatie", ""))
        mapping = self.mappings.zaaktype(code)
        if kind == "statustypen":
            return self._statustypen(zaaktype.get("url", ""), code, mapping.statustypen)
        if kind == "roltypen":
            roles: set[tuple[str, str | None]] = ({(o, None) for o in mapping.roltypen.values()}
                                                  | {(g, g) for g in _GENERIEK})
            return [self.known[self._type("roltypen", o, zaaktype.get("url", ""), omschrijvingGeneriek=g or "adviseur")]
                    for o, g in sorted(roles, key=lambda n: (n[0], n[1] or ""))]
        if kind == "resultaattypen":
            names = set(mapping.resultaattypen.values()) | ({mapping.resultaat} if mapping.resultaat else set())
            names |= {text(r, "omschrijving") or "" for r in self.message.iter("{*}resultaat")} - {""}
            return [self.known[self._type("resultaattypen", o, zaaktype.get("url", ""))] for o in sorted(names)]
        return []

    def _statustypen(self, zaaktype: str, code: str, mapped: dict[str, str | int]) -> list[dict[str, Any]]:
        wanted: dict[str, int | None] = {}
        for value in mapped.values():
            if isinstance(value, int):
                wanted.setdefault(f"status {value}", value)
            else:
                wanted.setdefault(value, None)
        for heeft in self.message.iter("{*}heeft"):
            omschrijving = text(heeft, "gerelateerde", "omschrijving")
            volgnummer = text(heeft, "gerelateerde", "volgnummer")
            if omschrijving and omschrijving not in mapped.values():
                wanted.setdefault(omschrijving, int(volgnummer) if volgnummer and volgnummer.isdigit() else None)
        ends = set()
        for zt in self.catalogus.zaaktypen:
            if zt.code == code:
                ends = {s.omschrijving for s in zt.statustypen if s.eindstatus}
                ends |= {str(mapped.get(s.code or "", "")) for s in zt.statustypen if s.eindstatus}
        out, taken = [], {v for v in wanted.values() if v is not None}
        following = max(taken, default=0)
        for omschrijving, wanted_number in wanted.items():
            if wanted_number is None:
                following += 1
                wanted_number = following
            out.append(self.known[self._type("statustypen", omschrijving, zaaktype, volgnummer=wanted_number,
                                             isEindstatus=omschrijving in ends or str(wanted_number) in ends)])
        return sorted(out, key=lambda s: s["volgnummer"])

    def _zaak(self, identificatie: str) -> dict[str, Any]:
        codes = [text(v, "gerelateerde", "code") for v in self.message.iter("{*}isVan")] + _values(self.message, "zkt.code")
        code = next((c for c in codes if c), None) or next(iter(self.mappings.zaaktypen), "")
        zaaktype = self._zaaktype(self.mappings.catalogi_zaaktype(code) if code else "zaaktype")
        return self._keep({"url": self._url("zaken", "zaken", identificatie), "identificatie": identificatie,
                           "zaaktype": zaaktype["url"], "bronorganisatie": "000000000", "resultaat": None,
                           "omschrijving": "", "kenmerken": []})

    def _document(self, identificatie: str) -> dict[str, Any]:
        locked = self.operation in ("updateZaakdocument", "cancelCheckout")
        zaaktype = self._zaak(text(self.message, "object", "isRelevantVoor", "gerelateerde", "identificatie")
                              or "zaak")["zaaktype"]
        iot = (self.known[zaaktype]["informatieobjecttypen"] or
               [self._type("informatieobjecttypen", "document", zaaktype)])[0]
        url = self._url("documenten", "enkelvoudiginformatieobjecten", identificatie)
        return self._keep({"url": url, "identificatie": identificatie, "informatieobjecttype": iot, "locked": locked,
                           "inhoud": f"{url}/download", "versie": 1, "titel": identificatie, "bestandsdelen": []})

    # -- answering -----------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("?")[0]
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        path = url.rstrip("/").split("/")
        api = next((a for a, base in self.urls.items() if url.startswith(base + "/")), None)
        kind = path[-1]
        body = json.loads(request.content) if request.content and b"{" in request.content[:1] else None
        if request.method == "GET":
            if url in self.known:
                return httpx.Response(200, json=self.known[url])
            if url.endswith("/download"):
                return httpx.Response(200, content=b"", headers={"Content-Type": "application/octet-stream"})
            results: list[dict[str, Any]] = []
            if api == "catalogi":
                results = self._catalogi_list(kind, query)
            elif kind == "zaken" and "identificatie" in query:
                results = [self._zaak(query["identificatie"])]
            elif kind == "enkelvoudiginformatieobjecten" and "identificatie" in query:
                results = [self._document(query["identificatie"])]
            elif kind == "besluiten" and "identificatie" in query:
                results = [self._keep({"url": self._url("besluiten", "besluiten", query["identificatie"]),
                                       "identificatie": query["identificatie"], "zaak": None,
                                       "besluittype": self._type("besluittypen", "besluit", "")})]
            elif kind in ("zaakinformatieobjecten", "besluitinformatieobjecten"):
                return httpx.Response(200, json=[])  # unpaginated lists
            return httpx.Response(200, json={"count": len(results), "next": None, "previous": None, "results": results})
        if request.method == "POST" and kind == "lock":
            return httpx.Response(200, json={"lock": _LOCK})
        if request.method == "POST" and kind == "unlock":
            return httpx.Response(204)
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.method == "PUT" and "bestandsdelen" in path:
            return httpx.Response(200, json={"url": url, "voltooid": True, "lock": _LOCK})
        if request.method in ("POST", "PATCH"):
            made = dict(self.known.get(url, {}))
            made.update(body or {})
            if request.method == "POST":
                made["url"] = self._url(api or "zaken", kind, str(uuid.uuid4()))
            if made.get("inhoud") is None and made.get("bestandsomvang"):
                made["lock"] = _LOCK
                made["bestandsdelen"] = [{"url": self._url("documenten", "bestandsdelen", made["url"]),
                                          "volgnummer": 1, "omvang": made["bestandsomvang"], "lock": _LOCK}]
            return httpx.Response(201 if request.method == "POST" else 200, json=self._keep(made))
        return httpx.Response(405, json={"detail": "preview"})


class Previewer:
    """Runs messages through the ZDS handlers and the ZGW adapter against :class:`ImaginedApis`."""

    def __init__(self, settings: Settings, schemas: SchemaSet, schema_model: SchemaModel,
                 handlers: Mapping[str, Handler], routes: RoutesFile | None) -> None:
        self.settings = settings
        self.schemas = schemas
        self.schema_model = schema_model
        self.handlers = handlers
        self.target_name, self.options = _zgw_target(routes)

    @classmethod
    def from_config_dir(cls, config_dir: Path) -> Previewer:
        """For the CLI: the configuration directory's settings and routes, no database."""
        settings = load_settings(config_dir)
        return cls(settings, SchemaSet(settings.xsd_dir), SchemaModel(settings.xsd_dir), services.load_all(),
                   load_routes(settings.config_dir, sorted(registry.available())))

    def run(self, message: bytes, mappings: Mappings, catalogus: Catalogus) -> dict[str, Any]:
        root = xmlsafe.parse(message)
        if ns.local(root.tag) == "Envelope" and ns.namespace(root.tag) in (ns.SOAP11, ns.SOAP12):
            root = soap.parse_request(message, "text/xml", None).body_element
        self.schemas.assert_valid(root)
        resolved = dispatch.resolve(root, None)
        operation = resolved.operation.name
        sg = sgmod.read(root)
        request = ZdsRequest(resolved, root, sg, self.settings.broker, self.schema_model)
        from broker.adapters.zgw.adapter import build

        recorded: list[Recorded] = []
        options = dict(self.options)
        urls = {api: options.get(f"{api}_url") or PLACEHOLDER_URLS[api] for api in PLACEHOLDER_URLS}
        options.update({f"{api}_url": url for api, url in urls.items()})
        options.setdefault("client_id", "preview")
        options.pop("secret_env", None)
        options["secret"] = "preview"  # the token is never shown, nor sent
        transport = ImaginedApis(urls, root, operation, mappings, catalogus)
        deps = AdapterDeps(settings=self.settings.broker, config_dir=self.settings.config_dir, db=None,
                           catalogus=catalogus, mappings=MappingSet(mappings), schema_model=self.schema_model,
                           files_dir=self.settings.files_dir, handlers=self.handlers)
        adapter = build(self.target_name, deps, options, transport=transport, record=recorded.append)
        outcome: dict[str, Any]
        try:
            answer = self.handlers[operation](request, adapter, Context(zender=sg.zender))
            outcome = {"answer": ns.local(answer.element.tag)}
        except StufError as exc:
            outcome = {"fault": {"code": exc.code, "plek": exc.plek, "omschrijving": exc.omschrijving,
                                 "details": exc.details}}
        finally:
            adapter.close()
        return {
            "operation": operation,
            "mappings": mappings.names,
            "case_model": casemodel.describe(operation, root),
            "requests": [{"method": r.method, "url": r.url, "headers": r.headers,
                          **({"json": r.json} if r.json is not None else {}),
                          **({"form": r.form} if r.form else {})} for r in recorded],
            **outcome,
        }


def _zgw_target(routes: RoutesFile | None) -> tuple[str, dict[str, Any]]:
    """The first ``zgw`` target of routes.yaml (name and options), or placeholders."""
    for name, target in (routes.targets.items() if routes is not None else []):
        if target.adapter == "zgw":
            return name, dict(target.options)
    return "zgw", {"client_id": "preview"}
