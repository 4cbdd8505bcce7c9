"""Which StUF-BG operation a request on a ``/bg/`` endpoint is: from its body element and SOAPAction."""

from __future__ import annotations

import re

from lxml import etree

from broker.bg.operations import BY_ELEMENT
from broker.errors import StufError
from broker.stuf import ns
from broker.zds.dispatch import Resolved

_BERICHT = re.compile(r"^([a-z]{3})(L[kva]|Sa|Sh|Di|Du)(\d\d)$")


def resolve(body: etree._Element, soap_action: str | None) -> Resolved:
    namespace, element = ns.namespace(body.tag), ns.local(body.tag)
    if namespace == ns.BG:
        op = BY_ELEMENT.get(element)
        if op is None:
            shape = _BERICHT.match(element)
            if shape and shape.group(2) == "Lv" and shape.group(1) == "nps":
                detail = "historie- en peiltijdstipvragen kan de broker niet beantwoorden: de bronnen kennen alleen actuele gegevens"
            elif shape and shape.group(2) == "Lk":
                detail = "van de kennisgevingen verwerkt de broker alleen npsLk01"
            else:
                detail = "de broker beantwoordt van StUF-BG alleen npsLv01"
            raise StufError("StUF025", f"Het StUF-BG-bericht {element} wordt niet ondersteund", detail)
        action = (soap_action or "").strip().strip('"').rstrip("/").rsplit("/", 1)[-1]
        if action and action != element and _BERICHT.match(action):
            raise StufError("StUF040", f"SOAPAction {soap_action} past niet bij het bericht {element}",
                            f"de SOAPAction noemt {action}")
        return Resolved(op, "bg", element)
    if namespace in (ns.ZDS, ns.ZKN):
        raise StufError("StUF004", f"Sectormodel StUF-ZKN wordt op dit endpoint niet ondersteund ({element})",
                        "stuur Zaak- en Documentservices naar /zds/...")
    if namespace == ns.STUF:
        raise StufError("StUF025", f"Het StUF-bericht {element} wordt op dit endpoint niet verwacht")
    raise StufError("StUF055", "Het bericht is geen StUF-bericht",
                    f"element {element} in namespace {namespace or '(geen)'}")
