"""MTOM/XOP (SOAP 1.1 MTOM, StUF protocolbindingen §3.1) in both directions.

Inbound: a ``multipart/related`` request is split with the standard library's MIME parser, and
every ``xop:Include`` in the root part is replaced by the base64 text of the part it points at, so
the rest of the broker sees an ordinary message with inline ``StUF:BinaireInhoud``.
Outbound: :func:`serialize` moves the base64 content of chosen elements into binary parts.

Large parts never get here as content: the edge wrote them to the file store while it read the body
(broker.stuf.spool) and the part holds a token instead, which inlining turns into the token's base64
text like any other part. Outbound, an element holding a token gets a part holding the raw token,
which the edge replaces by the file's bytes while it streams the answer (broker.store.blobs).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import email.utils
import uuid
from urllib.parse import unquote

from lxml import etree

from broker.errors import StufError
from broker.stuf import ns, xmlsafe
from broker.stuf.spool import Shape, check_small

_INCLUDE = ns.q(ns.XOP, "Include")


def is_multipart(content_type: str) -> bool:
    return content_type.lower().lstrip().startswith("multipart/related")


def split(body: bytes, content_type: str) -> tuple[bytes, dict[str, bytes], str]:
    """Return (root part bytes, {content-id: bytes}, the root part's own content type)."""
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not msg.is_multipart():
        raise StufError("StUF055", "Het MTOM-bericht kon niet worden gelezen", "geen multipart-inhoud")
    parts = list(msg.iter_parts())
    if not parts:
        raise StufError("StUF055", "Het MTOM-bericht bevat geen delen")
    start_param = msg.get_param("start")  # a tuple when RFC 2231-encoded (start*=...)
    start = email.utils.collapse_rfc2231_value(start_param).strip("<>") if start_param else ""
    by_id: dict[str, bytes] = {}
    root = None
    root_type = ""
    for part in parts:
        cid = (part.get("Content-ID") or "").strip().strip("<>")
        payload = part.get_payload(decode=True)  # bytes, or None for a part that is itself multipart
        data = payload if isinstance(payload, bytes) else b""
        if root is None and (not start or cid == start):
            root, root_type = data, part.get_content_type()
            root_type = str(part.get("Content-Type") or root_type)
            continue
        by_id[cid] = data
    if root is None:
        raise StufError("StUF055", "Het MTOM-bericht mist het hoofddeel")
    return root, by_id, root_type


def inline_includes(root: etree._Element, attachments: dict[str, bytes]) -> int:
    """Replace each xop:Include by the base64 text of its attachment; return how many. Each part may
    be referred to once: a part included many times would multiply its size in memory."""
    count = 0
    used: set[str] = set()
    for inc in list(root.iter(_INCLUDE)):
        href = unquote(inc.get("href", ""))
        cid = href[4:] if href.startswith("cid:") else href
        if cid not in attachments:
            raise StufError("StUF055", "Het MTOM-bericht verwijst naar een ontbrekend deel", f"xop:Include {href}")
        if cid in used:
            raise StufError("StUF055", "Het MTOM-bericht verwijst meer dan eens naar hetzelfde deel",
                            f"xop:Include {href}")
        used.add(cid)
        parent = inc.getparent()
        if parent is None:
            raise StufError("StUF055", "Het MTOM-bericht kon niet worden gelezen", "xop:Include als hoofdelement")
        parent.remove(inc)
        parent.text = base64.b64encode(attachments[cid]).decode("ascii")
        count += 1
    return count


def parse(body: bytes, content_type: str, shape: Shape | None = None) -> tuple[etree._Element, str]:
    """Parse an MTOM request into its envelope element, with attachments inlined."""
    root_bytes, attachments, root_type = split(body, content_type)
    element = xmlsafe.parse(root_bytes)
    # the root part of a body the edge's reducer passed through unscanned: its structure limits
    check_small(root_bytes, shape or Shape())
    inline_includes(element, attachments)
    return element, root_type


def serialize(envelope: etree._Element, binary_elements: list[etree._Element], soap_type: str) -> tuple[bytes, str]:
    """Serialise ``envelope`` as MTOM, moving the base64 text of ``binary_elements`` to parts.

    ``soap_type`` is the media type of the envelope itself (text/xml or application/soap+xml).
    Returns (body, content type header).
    """
    boundary = "MIMEBoundary_" + uuid.uuid4().hex
    start = f"root.{uuid.uuid4().hex}@stuf-broker"
    parts: list[tuple[str, bytes, str]] = []
    for el in binary_elements:
        data = base64.b64decode(el.text or "")
        cid = f"{uuid.uuid4().hex}@stuf-broker"
        el.text = None
        inc = etree.SubElement(el, _INCLUDE, nsmap={"xop": ns.XOP})
        inc.set("href", f"cid:{cid}")
        parts.append((cid, data, el.get(ns.q(ns.XMIME, "contentType")) or "application/octet-stream"))
    root = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    crlf = b"\r\n"
    out = [
        f"--{boundary}".encode(),
        f'Content-Type: application/xop+xml; charset=UTF-8; type="{soap_type}"'.encode(),
        b"Content-Transfer-Encoding: binary",
        f"Content-ID: <{start}>".encode(),
        b"",
        root,
    ]
    for cid, data, ctype in parts:
        out += [
            f"--{boundary}".encode(),
            f"Content-Type: {ctype}".encode(),
            b"Content-Transfer-Encoding: binary",
            f"Content-ID: <{cid}>".encode(),
            b"",
            data,
        ]
    out.append(f"--{boundary}--".encode())
    body = crlf.join(out) + crlf
    ctype = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{start}>"; start-info="{soap_type}"'
    )
    return body, ctype
