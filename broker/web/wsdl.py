"""Serving the official WSDLs and schemas, with the broker's own address filled in.

The files on disk stay untouched: the served copy differs only in ``soap:address`` (the broker's URL)
and in the locations of imported files, which point at ``/zds/xsd/...`` where the broker serves the
installed schema set with its folder layout intact (so relative imports inside it keep working).
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from pathlib import Path, PurePosixPath

from lxml import etree

from broker.stuf import ns

#: port -> WSDL file of the official set (folder layout, patched) and of the "2017 Q1 resolved" variant
WSDLS = {
    "BeantwoordVraag": ("zds0120/berichten/zds0120_beantwoordVraag_zs-dms.wsdl",
                        "variants/zds-1.2-2017Q1-resolved/zds0120_beantwoordVraag_zs-dms.wsdl"),
    "OntvangAsynchroon": ("zds0120/berichten/zds0120_ontvangAsynchroon_mutatie_zs-dms.wsdl",
                          "variants/zds-1.2-2017Q1-resolved/zds0120_ontvangAsynchroon_mutatie_zs-dms.wsdl"),
    "VerwerkSynchroonVrijBericht": ("zds0120/berichten/zds0120_vrijeBerichten_zs-dms.wsdl",
                                    "variants/zds-1.2-2017Q1-resolved/zds0120_vrijeBerichten_zs-dms.wsdl"),
}

#: StUF-BG port -> its WSDL in the official set (the patch-28 BG files the ZKN variant is built on)
BG_WSDLS = {
    "BeantwoordVraag": "variants/stuf-zkn-0310-patch28/bg0310/vraagAntwoord/bg0310_beantwoordVraag_vraagAntwoord.wsdl",
    "OntvangAsynchroon": "variants/stuf-zkn-0310-patch28/bg0310/mutatie/bg0310_ontvangAsynchroon_mutatie.wsdl",
}

_PARSER = etree.XMLParser(no_network=True, resolve_entities=False)


@lru_cache(maxsize=32)
def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def render(xsd_dir: Path, port: str, base_url: str, variant: str = "official") -> bytes:
    return _patched(xsd_dir, WSDLS[port][1 if variant == "resolved" else 0], port, base_url, "zds")


def render_bg(xsd_dir: Path, port: str, base_url: str) -> bytes:
    """The official StUF-BG 03.10 WSDL of ``port`` with the broker's ``/bg/`` address."""
    return _patched(xsd_dir, BG_WSDLS[port], port, base_url, "bg")


def _patched(xsd_dir: Path, rel: str, port: str, base_url: str, prefix: str) -> bytes:
    root = etree.fromstring(_read(str(xsd_dir / rel)), _PARSER)
    folder = posixpath.dirname(rel)
    schema_base = base_url.rstrip("/") + f"/{prefix}/xsd/"

    def absolute(loc: str) -> str:
        if "://" in loc:
            return loc
        return schema_base + posixpath.normpath(posixpath.join(folder, loc))

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == ns.q(ns.WSDL, "import") and (location := el.get("location")):
            el.set("location", absolute(location))
        elif el.tag in (ns.q(ns.XS, "import"), ns.q(ns.XS, "include")) and (location := el.get("schemaLocation")):
            el.set("schemaLocation", absolute(location))
        elif el.tag in (ns.q(ns.WSDL_SOAP11, "address"), ns.q(ns.WSDL_SOAP12, "address")):
            el.set("location", base_url.rstrip("/") + f"/{prefix}/{port}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def schema_file(xsd_dir: Path, relpath: str, allowed: frozenset[str]) -> bytes | None:
    clean = str(PurePosixPath(posixpath.normpath(relpath)))
    if clean not in allowed:
        return None
    return _read(str(xsd_dir / clean))
