"""What a ZDS service handler gets (the request) and gives back (the answer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from broker.config import BrokerSettings
from broker.stuf import ns
from broker.stuf.stuurgegevens import Stuurgegevens, Systeem, answer_to, write
from broker.zds.antwoord import complete
from broker.zds.dispatch import Resolved
from broker.zds.kern import SchemaModel
from broker.zds.operations import Operation


@dataclass
class ZdsRequest:
    resolved: Resolved
    body: etree._Element
    stuurgegevens: Stuurgegevens
    settings: BrokerSettings
    schema: SchemaModel

    @property
    def operation(self) -> Operation:
        return self.resolved.operation

    @property
    def own(self) -> Systeem:
        i = self.settings.identity
        return Systeem(i.organisatie, i.applicatie, i.administratie, i.gebruiker)


@dataclass
class ZdsAnswer:
    element: etree._Element
    zaak_identificatie: str | None = None
    object_identificatie: str | None = None
    binary_elements: list[etree._Element] = field(default_factory=list)


def _answer_root(req: ZdsRequest) -> tuple[etree._Element, str]:
    """The answer element and the namespace its children live in."""
    tag_ns = req.resolved.answer_namespace
    name = req.resolved.answer_element
    root = etree.Element(ns.q(tag_ns, name), nsmap=ns.NSMAP)
    # La01 answers of ZDS 1.2 are typed in the ZKN namespace; vrije berichten keep the ZDS namespace
    child_ns = ns.ZKN if (tag_ns == ns.ZKN or name.endswith("La01")) else ns.ZDS
    return root, child_ns


def la01(req: ZdsRequest, objects: list[etree._Element], entiteittype: str) -> etree._Element:
    """A synchronous antwoord: stuurgegevens, parameters and the objects (none when nothing matched)."""
    root, child_ns = _answer_root(req)
    write(root, ns.q(child_ns, "stuurgegevens"), answer_to(req.stuurgegevens, "La01", req.own, entiteittype=entiteittype))
    params = etree.SubElement(root, ns.q(child_ns, "parameters"))
    etree.SubElement(params, ns.q(ns.STUF, "indicatorVervolgvraag")).text = "false"
    if objects:
        antwoord = etree.SubElement(root, ns.q(child_ns, "antwoord"))
        for o in objects:
            antwoord.append(complete(o))
    return root


def du02(req: ZdsRequest, functie: str | None, parts: list[tuple[str, etree._Element | None]],
         parameters: etree._Element | None = None) -> etree._Element:
    """A vrij antwoord (Du02) with the given named parts, in order."""
    root, child_ns = _answer_root(req)
    write(root, ns.q(child_ns, "stuurgegevens"), answer_to(req.stuurgegevens, "Du02", req.own, functie=functie))
    if parameters is not None:
        root.append(parameters)
    for name, content in parts:
        if content is None:
            continue
        content.tag = ns.q(child_ns, name)
        root.append(content)
    return root
