"""What a ZDS service handler gets (the request) and gives back (the answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from broker.config import BrokerSettings
from broker.stuf import ns
from broker.stuf.berichten import bv03
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
    #: what the operation's service read from the request before the target's transaction (its
    #: ``prepare``, broker.services.service), by the service's own keys
    prepared: dict[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> Operation:
        return self.resolved.operation

    @property
    def own(self) -> Systeem:
        i = self.settings.identity
        return Systeem(i.organisatie, i.applicatie, i.administratie, i.gebruiker)


class ZdsAnswer:
    """A target's answer: the StUF element the sender gets, and the zaak or object it was about.
    The element may be given as a function that makes it, when first read (:meth:`acknowledged`):
    a queued delivery's Bv03, which no one reads, is then never built."""

    __slots__ = ("_element", "zaak_identificatie", "object_identificatie", "binary_elements", "acknowledgement")

    def __init__(self, element: etree._Element | Callable[[], etree._Element], zaak_identificatie: str | None = None,
                 object_identificatie: str | None = None,
                 binary_elements: list[etree._Element] | None = None) -> None:
        self._element = element
        self.zaak_identificatie = zaak_identificatie
        self.object_identificatie = object_identificatie
        self.binary_elements = binary_elements if binary_elements is not None else []
        #: the answer is the request's Bv03 (:meth:`acknowledged`), which depends on the request alone
        self.acknowledgement = False

    @property
    def element(self) -> etree._Element:
        if not isinstance(self._element, etree._Element):
            self._element = self._element()
        return self._element

    @classmethod
    def acknowledged(cls, req: ZdsRequest, *, zaak_identificatie: str | None = None,
                     object_identificatie: str | None = None) -> ZdsAnswer:
        """The Bv03 of a request, built when it is read."""
        answer = cls(lambda: bv03(req.stuurgegevens, req.own), zaak_identificatie, object_identificatie)
        answer.acknowledgement = True
        return answer

    def __repr__(self) -> str:
        return f"ZdsAnswer(zaak_identificatie={self.zaak_identificatie!r}, object_identificatie={self.object_identificatie!r})"


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
