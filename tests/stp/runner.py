"""Running the StUF Testplatform ZDS 1.2 scenario templates against a live broker.

For every step of scenario.yaml the runner fills the request template's placeholders, sends it over
HTTP as a SOAP 1.1 request with the ZDS SOAPAction, validates the answer against the official schema
(tests.support.soapcall), checks that zender/ontvanger are mirrored and crossRefnummer refers to the
request, and compares the answer with the expected template after canonicalisation (compare.py).

Placeholders:
- ``${name}`` from the run's context (zender/ontvanger, gemeentecode 1234, dates relative to today,
  the zaaktype and statustypen of tests/stp/config), from identificaties the runner makes up where
  the STP does (``creerzaak_identificatie_7``: ten random digits, as the STP's genereerID(10)), or
  captured from an earlier answer (``genereerzaakident_identificatie_2`` from a Du02);
- ``#{name}`` fresh for each message (referentienummer, tijdstipBericht, datumStatusGezet).
Known defects of the templates are listed, with the reason for each, in errata.yaml.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from broker.stuf import ns
from broker.zds.operations import BY_ZDS_ELEMENT
from tests.stp import compare
from tests.support.soapcall import SoapAnswer, SoapCaller

HERE = Path(__file__).resolve().parent
_DOLLAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_HASH = re.compile(r"#\{([A-Za-z0-9_]+)\}")
ZDS_ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"
NAMESPACES = {"ZKN": ns.ZKN, "StUF": ns.STUF, "BG": ns.BG, "ZDS": ns.ZDS}


def _digits(n: int) -> str:
    return "".join(random.choice("123456789") for _ in range(n))


def base_context(gemeentecode: str = "1234") -> dict[str, str]:
    now = datetime.now()

    def day(offset: int) -> str:
        return (now + timedelta(days=offset)).strftime("%Y%m%d")

    ctx = {
        "zenderOrganisatie": "KING",
        "zenderApplicatie": "STP",
        "ontvangerOrganisatie": "ORG",
        "ontvangerApplicatie": "TTA",
        "gemeentecode": gemeentecode,
        "tijdstipBericht": now.strftime("%Y%m%d%H%M%S"),
        "tijdstipRegistratie": now.strftime("%Y%m%d%H%M%S"),
        "datumEergisteren": day(-2),
        "datumGisteren": day(-1),
        "datumVandaag": day(0),
        "datumMorgen": day(1),
        "datumStatusGezet": now.strftime("%Y%m%d%H%M%S"),
        "zds_zaaktype_omschrijving": "Aanvraag burgerservicenummer behandelen",
        "zds_zaaktype_code": "12345678",
        "zds_zaaktype_datum": day(0),
        "zds_zaakstatus_code": "12345678",
        "zds_zaakstatus_omschrijving": "Intake afgerond",
        "zds_zaakstatus_datum": day(0),
        "zds_zaakstatus_code_2": "87651234",
        "zds_zaakstatus_omschrijving_2": "Afgerekend",
        "zds_zaakstatus_datum2": day(0),
        "zds_zaakstatus_code_3": "78563412",
        "zds_zaakstatus_omschrijving_3": "Product opgesteld",
        "zds_zaakstatus_datum3": day(0),
        "zds_zaakstatus_code_4": "87126534",
        "zds_zaakstatus_omschrijving_4": "Zaak afgerond",
        "zds_zaakstatus_datum4": day(0),
    }
    for name in ("creerzaak_identificatie_7", "creerzaak_identificatie_9", "creerzaak_identificatie_11",
                 "creerzaak_identificatie_13", "maakzaakdocument_identificatie_1", "maakzaakdocument_identificatie_3",
                 "maakzaakdocument_identificatie_5", "voegzaakdocumenttoe_identificatie_1",
                 "voegzaakdocumenttoe_identificatie_3", "voegzaakdocumenttoe_identificatie_5",
                 "voegzaakdocumenttoe_identificatie_7", "voegzaakdocumenttoe_identificatie_9",
                 "voegbesluittoe_identificatie_3", "voegbesluittoe_identificatie_5",
                 "voegbesluittoe_identificatie_7", "voegbesluittoe_identificatie_9"):
        ctx[name] = _digits(10)
    return ctx


@dataclass
class FileResult:
    file: str
    role: str  # "request" or "expected"
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    runs: int = 0

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


@dataclass
class Errata:
    templates: dict[str, list[dict[str, str]]]
    expected: dict[str, list[dict[str, Any]]]
    general: list[dict[str, Any]]
    #: a target's general rules: applied after the template's own errata, which keep matching
    target_general: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = HERE / "errata.yaml", target: str | None = None) -> Errata:
        """The errata of the templates, plus those of one target's run (``targets: {<target>: ...}``)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        errata = cls(data.get("templates") or {}, data.get("expected") or {}, data.get("general") or [])
        if target is not None:
            extra = (data.get("targets") or {}).get(target) or {}
            for rel, fixes in (extra.get("templates") or {}).items():
                errata.templates[rel] = list(errata.templates.get(rel, [])) + list(fixes)
            for rel, rules in (extra.get("expected") or {}).items():
                errata.expected[rel] = list(errata.expected.get(rel, [])) + list(rules)
            errata.target_general = list(extra.get("general") or [])
        return errata


class Runner:
    def __init__(self, caller: SoapCaller, templates: Path, gemeentecode: str = "1234",
                 target: str | None = None) -> None:
        self.caller = caller
        self.templates = templates
        self.gemeentecode = gemeentecode
        self.context = base_context(gemeentecode)
        self.errata = Errata.load(target=target)
        self.results: dict[str, FileResult] = {}
        self.scenario = yaml.safe_load((HERE / "scenario.yaml").read_text(encoding="utf-8"))["steps"]
        self._counter = 0
        self.failures: list[str] = []
        dump = os.environ.get("STP_DUMP_DIR")
        self.dump_dir = Path(dump) if dump else None

    # -- filling -----------------------------------------------------------------------------
    def _fresh(self, name: str) -> str:
        """``#{referentienummer}`` is new for every message; other ``#{name}`` take the run's value."""
        self._counter += 1
        if name == "referentienummer":
            return f"STP{datetime.now().strftime('%H%M%S')}{self._counter:05d}{_digits(4)}"
        if name in self.context:
            return self.context[name]
        raise AssertionError(f"no value for #{{{name}}}")

    def template_text(self, rel: str) -> str:
        text = (self.templates / rel).read_text(encoding="utf-8")
        for fix in self.errata.templates.get(rel, []):
            if fix["replace"] not in text:
                raise AssertionError(f"errata for {rel}: {fix['replace']!r} not in the template any more")
            text = text.replace(fix["replace"], fix["with"])
        return text

    def fill_request(self, rel: str) -> str:
        text = _HASH.sub(lambda m: self._fresh(m.group(1)), self.template_text(rel))

        def dollar(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in self.context:
                raise AssertionError(f"{rel}: placeholder ${{{name}}} has no value yet (scenario order?)")
            return self.context[name]

        return _DOLLAR.sub(dollar, text)

    def fill_expected(self, rel: str) -> str:
        text = self.template_text(rel).replace("{{ ", "${").replace(" }}", "}")
        text = _HASH.sub(lambda m: "" if m.group(1) == "referentienummer" else "${" + m.group(1) + "}", text)
        return _DOLLAR.sub(lambda m: self.context.get(m.group(1), m.group(0)), text)

    # -- running -----------------------------------------------------------------------------
    def result(self, rel: str, role: str) -> FileResult:
        return self.results.setdefault(rel, FileResult(rel, role))

    def run(self) -> dict[str, FileResult]:
        for step in self.scenario:
            try:
                if isinstance(step, dict) and "checkout" in step:
                    self.checkout(**step["checkout"])
                else:
                    self.step(*step)
            except AssertionError as exc:
                files = step if isinstance(step, list) else []
                for rel, role in zip(files, ("request", "expected")):
                    r = self.result(rel, role)
                    r.runs += 1
                    r.fail(f"step could not run: {exc}")
                if not files:
                    self.failures.append(f"{step}: {exc}")
        return self.results

    def step(self, request_rel: str, expected_rel: str) -> None:
        req_result = self.result(request_rel, "request")
        exp_result = self.result(expected_rel, "expected")
        req_result.runs += 1
        exp_result.runs += 1
        body = self.fill_request(request_rel)
        request_el = etree.fromstring(body.encode("utf-8"))
        element = ns.local(request_el.tag)
        op = BY_ZDS_ELEMENT[element]
        try:
            answer = self.caller.call(op.port, body, soap_action=ZDS_ACTION + element)
        except AssertionError as exc:  # the answer did not validate
            req_result.fail(str(exc))
            exp_result.fail(f"{request_rel}: {exc}")
            return
        if answer.is_fault:
            problem = f"answered {answer.berichtcode} {answer.foutcode}: {answer.text('body/omschrijving')} ({answer.text('body/details')})"
            req_result.fail(problem)
            exp_result.fail(f"{request_rel}: {problem}")
            return
        for p in check_mirrored(request_el, answer):
            exp_result.fail(f"{request_rel}: {p}")
        self.compare(request_el, answer, expected_rel, exp_result)

    def compare(self, request_el: etree._Element, answer: SoapAnswer, expected_rel: str, result: FileResult) -> None:
        if self.dump_dir is not None:  # for people reading a failure: the answer next to the template
            target = self.dump_dir / expected_rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(etree.tostring(answer.payload, pretty_print=True))
            target.with_suffix(".expected.xml").write_text(self.fill_expected(expected_rel), encoding="utf-8")
        expected_el = etree.fromstring(self.fill_expected(expected_rel).encode("utf-8"))
        exp = compare.canonical(expected_el, self.gemeentecode)
        act = compare.canonical(answer.payload, self.gemeentecode)
        for rule in self.errata.general:
            apply_erratum(exp, rule, drop_only=True)
            apply_erratum(act, rule, drop_only=True)
        for rule in self.errata.expected.get(expected_rel, []):
            apply_erratum(exp, rule)
        for rule in self.errata.target_general:
            apply_erratum(exp, rule, drop_only=True)
            apply_erratum(act, rule, drop_only=True)
        scope_obj = request_el.find(f"{{{ns.ZKN}}}scope/{{{ns.ZKN}}}object")
        mode = "contains" if scope_obj is not None and scope_obj.get(f"{{{ns.STUF}}}scope") else "exact"
        outcome = compare.compare(exp, act, mode, self.context)
        for p in outcome.problems:
            result.fail(p)

    def checkout(self, document: str, bind: str) -> None:
        """geefZaakdocumentbewerken (no STP template exists): check a document out, keep the checkout id."""
        ident = self.context[document]
        body = (
            f'<ZDS:geefZaakdocumentBewerken_Di02 xmlns:ZDS="{ns.ZDS}" xmlns:ZKN="{ns.ZKN}" xmlns:StUF="{ns.STUF}">'
            "<ZDS:stuurgegevens><StUF:berichtcode>Di02</StUF:berichtcode>"
            f"<StUF:zender><StUF:organisatie>KING</StUF:organisatie><StUF:applicatie>STP</StUF:applicatie></StUF:zender>"
            f"<StUF:ontvanger><StUF:organisatie>ORG</StUF:organisatie><StUF:applicatie>TTA</StUF:applicatie></StUF:ontvanger>"
            f"<StUF:referentienummer>{self._fresh('referentienummer')}</StUF:referentienummer>"
            f"<StUF:tijdstipBericht>{self._fresh('tijdstipBericht')}</StUF:tijdstipBericht>"
            "<StUF:functie>geefZaakdocumentbewerken</StUF:functie></ZDS:stuurgegevens>"
            '<ZDS:edcLv01 StUF:entiteittype="EDC" StUF:functie="selectie">'
            "<ZKN:parameters><StUF:indicatorAfnemerIndicatie>false</StUF:indicatorAfnemerIndicatie></ZKN:parameters>"
            f'<ZKN:gelijk StUF:entiteittype="EDC"><ZKN:identificatie>{ident}</ZKN:identificatie></ZKN:gelijk>'
            '<ZKN:scope><ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/></ZKN:scope></ZDS:edcLv01>'
            "</ZDS:geefZaakdocumentBewerken_Di02>"
        )
        answer = self.caller.call("VerwerkSynchroonVrijBericht", body, soap_action=ZDS_ACTION + "geefZaakdocumentBewerken_Di02")
        if answer.is_fault:
            raise AssertionError(f"checkout of {document} failed: {answer.foutcode} {answer.text('body/omschrijving')}")
        checkout_id = answer.text("parameters/checkedOutId")
        if not checkout_id:
            raise AssertionError(f"checkout of {document}: no checkedOutId in the Du02")
        self.context[bind] = checkout_id


def check_mirrored(request: etree._Element, answer: SoapAnswer) -> list[str]:
    """Answers with zender/ontvanger mirror the request's; crossRefnummer names the request (§4.4)."""
    problems = []

    def sg_text(el: etree._Element, *path: str) -> str | None:
        for p in path:
            el = next((c for c in el if isinstance(c.tag, str) and ns.local(c.tag) == p), None)
            if el is None:
                return None
        return (el.text or "").strip() or None

    if sg_text(answer.payload, "stuurgegevens", "zender") is None and sg_text(answer.payload, "stuurgegevens", "zender", "applicatie") is None:
        return problems
    pairs = [(("zender", "applicatie"), ("ontvanger", "applicatie")), (("ontvanger", "applicatie"), ("zender", "applicatie")),
             (("zender", "organisatie"), ("ontvanger", "organisatie")), (("ontvanger", "organisatie"), ("zender", "organisatie"))]
    for a_path, r_path in pairs:
        a = sg_text(answer.payload, "stuurgegevens", *a_path)
        r = sg_text(request, "stuurgegevens", *r_path)
        if r is not None and a != r:
            problems.append(f"stuurgegevens/{'/'.join(a_path)} is {a!r}, should mirror the request's {'/'.join(r_path)} {r!r}")
    ref = sg_text(request, "stuurgegevens", "referentienummer")
    cross = sg_text(answer.payload, "stuurgegevens", "crossRefnummer")
    if ref and cross != ref:
        problems.append(f"crossRefnummer {cross!r} does not name the request's referentienummer {ref!r}")
    return problems


def _select(node: compare.Node, path: str) -> list[tuple[compare.Node, compare.Node]]:
    """(parent, child) pairs at a path of local names; 'a/b[2]/c' picks the second b."""
    current = [(None, node)]
    for part in path.strip("/").split("/"):
        if part == "**":  # any depth, including here
            expanded = []
            stack = list(current)
            while stack:
                parent, n = stack.pop(0)
                expanded.append((parent, n))
                stack.extend((n, c) for c in n.children)
            current = expanded
            continue
        m = re.match(r"^(.+?)(?:\[(\d+)\])?$", part)
        name, index = m.group(1), m.group(2)
        nxt = []
        for _, n in current:
            kids = [c for c in n.children if compare.local(c.tag) == name]
            if index is not None:
                kids = kids[int(index) - 1:int(index)]
            nxt.extend((n, k) for k in kids)
        current = nxt
    return [(p, c) for p, c in current if p is not None]


def apply_erratum(node: compare.Node, rule: dict[str, Any], drop_only: bool = False) -> None:
    hits = _select(node, rule["path"])
    if not hits and not rule.get("optional") and not drop_only:
        raise AssertionError(f"erratum path {rule['path']} matches nothing (template changed?)")
    for parent, child in hits:
        action = rule["action"]
        if action == "remove":
            parent.children.remove(child)
        elif action == "set" and not drop_only:
            child.text = rule["value"]
            if rule["value"]:
                child.attrs = {k: v for k, v in child.attrs.items() if compare.local(k) not in ("nil", "noValue")}
        elif action == "add" and not drop_only:
            prefix, _, name = rule["element"].partition(":")
            tag = f"{{{NAMESPACES[prefix]}}}{name}"
            new = compare.Node(tag, {}, rule.get("value", ""), path=f"{child.path}/{name}")
            at = len(child.children)
            if rule.get("after"):
                for i, c in enumerate(child.children):
                    if compare.local(c.tag) == rule["after"]:
                        at = i + 1
            child.children.insert(at, new)
        elif action == "any-value" and not drop_only:
            child.wildcard = True
        elif action == "drop-attribute":
            child.attrs = {k: v for k, v in child.attrs.items() if compare.local(k) != rule["attribute"]}
