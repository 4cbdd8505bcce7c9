"""Reading a request body in pieces, with large document content moved to the file store on the way.

The edge feeds every piece of the body it receives to a reducer (:func:`reducer`); what comes out
is the same message with each large ``inhoud`` replaced by a token (:mod:`broker.store.blobs`):

- inline base64 (text/xml, application/soap+xml): a linear-time scanner that knows just enough XML
  to find text (comments, CDATA, processing instructions and quoted attribute values are passed
  over; from a DOCTYPE on, everything passes unchanged, and the safe parser refuses it). A text run of more than ``THRESHOLD``
  bytes directly inside an element named ``inhoud`` (the only element StUF-ZKN and ZDS type as
  base64Binary) is decoded into the file store and replaced by the token's base64 text;
- MTOM (multipart/related): a part other than the root part with more than ``THRESHOLD`` bytes is
  written (decoded when it is base64 encoded) into the file store, and the part holds the raw token
  instead; inlining the xop:Include then puts the token's base64 text in the element.

Nothing else changes: the reduced message is parsed by the safe parser (no ``huge_tree``, its
limits on text and depth stay) and validated in full against the schemas, with the token standing
where the content stood; the schema types that content as base64Binary, which the token is. Content
below the threshold stays in the message as before.

Limits: each document at most ``max_document`` bytes (decoded), refused as soon as it grows past it
(StUF058, HTTP 413); the message at most ``max_rest`` bytes (the edge also refuses a body above
``limits.max_body_bytes`` before reading it, by its Content-Length).
"""

from __future__ import annotations

import email.message
import email.utils
import functools
import re
from dataclasses import dataclass
from typing import Protocol

from broker.config import Limits
from broker.errors import RequestRejected, StufError
from broker.store.blobs import BadBase64, BlobRef, BlobStore, BlobWriter, TooLarge

THRESHOLD = 1024 * 1024
#: the one element whose content the schemas type as base64Binary (StUF:BinaireInhoud)
BINARY_ELEMENTS = frozenset({b"inhoud"})
_MAX_MARKUP = 1024 * 1024  # one tag, comment or processing instruction
_TAG = re.compile(rb"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_NAME = re.compile(rb"</?([^\s/>]+)")
#: where the reducer has something to do: a comment, CDATA section, DOCTYPE or processing instruction,
#: or the start tag of an inhoud element (with any prefix); everything before it passes in bulk
_NOTEWORTHY = re.compile(rb"<(?:[!?]|(?:[^\s<>/!?:]+:)?inhoud[\s/>])")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso-8859-15",
                     "windows-1252", "cp1252"}


class RestTooLarge(Exception):
    """The message without its document content is larger than ``limits.max_body_bytes``."""


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def document_too_large(size: int, limit: int) -> RequestRejected:
    return RequestRejected(
        "StUF058",
        f"Het document is te groot (meer dan {mb(limit)}); deze broker neemt documenten tot {mb(limit)} aan",
        f"inhoud van meer dan {size} bytes, maximum {limit} bytes (limits.max_document_bytes)",
        plek="client",
        http_status=413,
    )


class Reducer(Protocol):
    blobs: list[BlobRef]

    def feed(self, data: bytes) -> None: ...

    def close(self) -> bytes: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Shape:
    """Limits on a message's structure, checked while it is read, before any parsing: the costs of
    parsing, hashing and validating grow with them (quadratically for attributes in canonical form)."""

    max_attributes: int = 256  # per element (counted as '=' in a start tag: values may add a few)
    max_namespace_declarations: int = 1000  # in the whole message
    max_parts: int = 100  # MIME parts of an MTOM message

    @classmethod
    def from_limits(cls, limits: Limits) -> Shape:
        return cls(limits.max_attributes_per_element, limits.max_namespace_declarations, limits.max_mime_parts)


def too_complex(what: str) -> StufError:
    return StufError("StUF055", "Het bericht is te complex om te verwerken", what)


_START_TAG = re.compile(rb"<[^!?/<>][^<>]*>")


@functools.lru_cache(maxsize=8)
def _crowded_tag(max_attributes: int) -> re.Pattern[bytes]:
    """A start tag with more than ``max_attributes`` '=' in it, in linear time: the quantifiers are
    possessive and '=' lies outside the classes between them, so nothing is tried twice."""
    return re.compile(rb"<[^!?/<>=][^<>=]*+(?:=[^<>=]*+){%d}[^<>]*+>" % (max_attributes + 1))


def check_small(body: bytes, shape: Shape) -> None:
    """The structure limits for a body small enough to need no reducer (below ``THRESHOLD``: it cannot
    hold large content), in linear time and mostly in C: a few microseconds for an ordinary message."""
    if body.count(b"xmlns") > shape.max_namespace_declarations:
        raise too_complex(f"meer dan {shape.max_namespace_declarations} namespace-declaraties")
    if body.count(b"=") > shape.max_attributes and _crowded_tag(shape.max_attributes).search(body):
        raise too_complex(f"een element met meer dan {shape.max_attributes} attributen")
    if body.count(b"\r\n--") > shape.max_parts + 1:  # MIME delimiters (a multipart body)
        raise too_complex(f"meer dan {shape.max_parts} MIME-delen")


class _Base:
    def __init__(self, store: BlobStore, max_document: int, max_rest: int, threshold: int,
                 shape: Shape = Shape()) -> None:
        self.shape = shape
        self.namespaces = 0
        self.store = store
        self.max_document = max_document
        self.max_rest = max_rest
        self.threshold = threshold
        self.out = bytearray()
        self.buf = bytearray()
        self.writer: BlobWriter | None = None
        self.blobs: list[BlobRef] = []

    def _emit(self, data: bytes | bytearray) -> None:
        self.out += data
        if len(self.out) > self.max_rest:
            raise RestTooLarge()

    def _write(self, data: bytes | bytearray, as_base64: bool) -> None:
        assert self.writer is not None
        try:
            if as_base64:
                self.writer.write_base64(bytes(data))
            else:
                self.writer.write(bytes(data))
        except TooLarge as exc:
            self.writer = None
            raise document_too_large(exc.size, exc.limit) from None
        except BadBase64 as exc:
            self.discard()
            raise StufError("StUF055", "De inhoud van het document is geen geldige base64", str(exc)) from None

    def _finish(self) -> BlobRef:
        assert self.writer is not None
        try:
            ref = self.writer.finish()
        except BadBase64 as exc:
            self.discard()
            raise StufError("StUF055", "De inhoud van het document is geen geldige base64", str(exc)) from None
        self.writer = None
        self.blobs.append(ref)
        return ref

    def _shape(self, tag: bytes) -> None:
        if tag.count(b"=") > self.shape.max_attributes:
            raise too_complex(f"een element met meer dan {self.shape.max_attributes} attributen")
        self.namespaces += tag.count(b"xmlns")
        if self.namespaces > self.shape.max_namespace_declarations:
            raise too_complex(f"meer dan {self.shape.max_namespace_declarations} namespace-declaraties")

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.discard()
            self.writer = None


class XmlReducer(_Base):
    """Inline base64: see the module's docstring."""

    def __init__(self, store: BlobStore, max_document: int, max_rest: int, threshold: int,
                 shape: Shape = Shape()) -> None:
        super().__init__(store, max_document, max_rest, threshold, shape)
        self.started = False
        self.passthrough = False
        self.binary_parent = False  # the last markup was the start tag of an inhoud element
        self.run_start = 0  # where the current text run starts in self.out

    def feed(self, data: bytes) -> None:
        self.buf += data
        if not self.started:
            if len(self.buf) < 256 and data:
                return
            self.started = True
            self.passthrough = not self._ascii_compatible(bytes(self.buf[:256]))
        if self.passthrough:
            self._emit(self.buf)
            self.buf.clear()
            return
        self._scan(final=False)

    def close(self) -> bytes:
        if not self.started:
            self.feed(b"")
        if not self.passthrough:
            self._scan(final=True)
            if self.writer is not None:  # the message ends inside the content: the parser says so
                self._emit(self._finish().text().encode())
            self._emit(self.buf)
            self.buf.clear()
        return bytes(self.out)

    @staticmethod
    def _ascii_compatible(head: bytes) -> bool:
        if head.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00", b"\x4c\x6f\xa7\x94")) or head[1:2] == b"\x00":
            return False
        m = _ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
        return m is None or m.group(1).decode().lower() in _ASCII_COMPATIBLE

    def _scan(self, final: bool) -> None:
        buf = self.buf
        pos = 0
        while pos < len(buf):
            if self.writer is None and not self.binary_parent:
                # ordinary tags and text up to the next noteworthy markup: checked and passed on in
                # bulk, in C (one markup at a time in Python cost seven times the parse of the message)
                m = _NOTEWORTHY.search(buf, pos)
                end = m.start() if m is not None else (len(buf) if final else buf.rfind(b"<", pos))
                if end > pos:
                    self._bulk(buf[pos:end])
                    pos = end
                    self.run_start = len(self.out)
                    continue
            lt = buf.find(b"<", pos)
            if lt != pos:  # text up to the next markup (or all of what is there)
                end = len(buf) if lt < 0 else lt
                self._text(buf[pos:end])
                pos = end
                continue
            # markup at pos
            if self.writer is not None:
                self._emit(self._finish().text().encode())
            consumed = self._markup(buf, pos, final)
            if consumed == 0:
                break  # incomplete: wait for more
            pos += consumed
            if self.passthrough:
                break
            self.run_start = len(self.out)
        del buf[:pos]

    def _text(self, data: bytearray) -> None:
        if self.writer is not None:
            self._write(data, as_base64=True)
            return
        self.out += data
        if self.binary_parent and len(self.out) - self.run_start > self.threshold:
            run = self.out[self.run_start:]
            del self.out[self.run_start:]
            self.writer = self.store.writer(self.max_document)
            self._write(run, as_base64=True)
        self._emit(b"")

    def _bulk(self, region: bytearray) -> None:
        """Markup and text with nothing for the reducer to do: the structure limits counted as
        :func:`check_small` counts them, then passed on as they are."""
        self.namespaces += region.count(b"xmlns")
        if self.namespaces > self.shape.max_namespace_declarations:
            raise too_complex(f"meer dan {self.shape.max_namespace_declarations} namespace-declaraties")
        if region.count(b"=") > self.shape.max_attributes:  # only then can one element have too many
            for tag in _START_TAG.findall(region):
                if tag.count(b"=") > self.shape.max_attributes:
                    raise too_complex(f"een element met meer dan {self.shape.max_attributes} attributen")
        self._emit(region)

    def _markup(self, buf: bytearray, pos: int, final: bool) -> int:
        """Emit one piece of markup at ``pos``; return its length, or 0 when it is not complete yet."""
        head = bytes(buf[pos:pos + 9])
        if head.startswith(b"<!--"):
            end, close = buf.find(b"-->", pos + 4), 3
        elif head.startswith(b"<![CDATA["):
            end, close = buf.find(b"]]>", pos + 9), 3
        elif head.startswith(b"<?"):
            end, close = buf.find(b"?>", pos + 2), 2
        elif head.startswith(b"<!"):
            if not final and len(head) < 9 and (b"<!--".startswith(head) or b"<![CDATA[".startswith(head)):
                return 0  # not complete yet
            # a DOCTYPE: the rest goes through unchanged, the safe parser refuses it (and the
            # message log keeps it as received)
            self.passthrough = True
            self._emit(buf[pos:])
            return len(buf) - pos
        else:
            m = _TAG.match(buf, pos)
            if m is None:
                if len(buf) - pos > _MAX_MARKUP:
                    raise StufError("StUF055", "Het bericht is geen welgevormde XML", "een tag van meer dan 1 MB")
                if final:
                    self._emit(buf[pos:])
                    return len(buf) - pos
                return 0
            tag = m.group(0)
            if not tag.startswith(b"</"):
                self._shape(tag)
            name = _NAME.match(tag)
            local = name.group(1).rsplit(b":", 1)[-1] if name else b""
            self.binary_parent = not tag.startswith(b"</") and not tag.endswith(b"/>") and local in BINARY_ELEMENTS
            self._emit(tag)
            return len(tag)
        if end < 0:
            if len(buf) - pos > _MAX_MARKUP:
                raise StufError("StUF055", "Het bericht is geen welgevormde XML", "markup van meer dan 1 MB")
            if final:
                self._emit(buf[pos:])
                return len(buf) - pos
            return 0
        self.binary_parent = False
        self._emit(buf[pos:end + close])
        return end + close - pos


class MtomReducer(_Base):
    """MTOM: see the module's docstring."""

    def __init__(self, store: BlobStore, max_document: int, max_rest: int, threshold: int,
                 boundary: str, start: str, shape: Shape = Shape()) -> None:
        super().__init__(store, max_document, max_rest, threshold, shape)
        self.delimiter = b"\r\n--" + boundary.encode("latin-1")
        self.start = start
        self.state = "preamble"  # preamble, headers, body, epilogue
        self.parts = 0
        self.part_root = False
        self.part_base64 = False
        self.body_start = 0  # where the current part's body starts in self.out

    def feed(self, data: bytes) -> None:
        self.buf += data
        self._scan(final=False)

    def close(self) -> bytes:
        self._scan(final=True)
        if self.writer is not None:
            self._end_body()
        self._emit(self.buf)
        self.buf.clear()
        return bytes(self.out)

    def _scan(self, final: bool) -> None:
        buf = self.buf
        while buf:
            if self.state == "preamble":
                # the first delimiter may open the body without the CRLF before it
                probe = b"\r\n" + bytes(buf)
                at = probe.find(self.delimiter)
                if at < 0:
                    if len(buf) > _MAX_MARKUP:
                        raise StufError("StUF055", "Het MTOM-bericht kon niet worden gelezen", "geen begrenzer")
                    return
                cut = at - 2 + len(self.delimiter)
                self._emit(buf[:cut])
                del buf[:cut]
                self.state = "after-delimiter"
            elif self.state == "after-delimiter":
                if len(buf) < 2:
                    return
                if buf.startswith(b"--"):
                    self.state = "epilogue"
                    continue
                self.state = "headers"
            elif self.state == "headers":
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_MARKUP:
                        raise StufError("StUF055", "Het MTOM-bericht kon niet worden gelezen", "koppen te lang")
                    return
                headers = bytes(buf[:end + 4])
                self._emit(headers)
                del buf[:end + 4]
                self._part_headers(headers)
                self.state = "body"
                self.body_start = len(self.out)
            elif self.state == "body":
                at = buf.find(self.delimiter)
                if at < 0:
                    keep = len(self.delimiter) - 1
                    if len(buf) <= keep:
                        return
                    self._body(buf[:len(buf) - keep])
                    del buf[:len(buf) - keep]
                    return
                self._body(buf[:at])
                self._end_body()
                self._emit(buf[at:at + len(self.delimiter)])
                del buf[:at + len(self.delimiter)]
                self.state = "after-delimiter"
            else:  # epilogue
                self._emit(buf)
                buf.clear()

    def _part_headers(self, raw: bytes) -> None:
        # the delimiter line ends (after optional transport padding) before the headers start
        msg = email.message_from_bytes(raw.split(b"\r\n", 1)[1] if b"\r\n" in raw else raw)
        cid = (msg.get("Content-ID") or "").strip().strip("<>")
        self.part_root = (self.parts == 0 and not self.start) or (bool(self.start) and cid == self.start)
        self.part_base64 = (msg.get("Content-Transfer-Encoding") or "").strip().lower() == "base64"
        self.parts += 1
        if self.parts > self.shape.max_parts:
            raise too_complex(f"meer dan {self.shape.max_parts} MIME-delen")

    def _body(self, data: bytearray) -> None:
        if self.writer is not None:
            self._write(data, as_base64=self.part_base64)
            return
        self.out += data
        if not self.part_root and len(self.out) - self.body_start > self.threshold:
            run = self.out[self.body_start:]
            del self.out[self.body_start:]
            self.writer = self.store.writer(self.max_document)
            self._write(run, as_base64=self.part_base64)
        self._emit(b"")

    def _end_body(self) -> None:
        if self.writer is not None:
            ref = self._finish()
            self._emit(ref.text().encode() if self.part_base64 else ref.raw())


class _PassThrough:
    def __init__(self, max_rest: int) -> None:
        self.max_rest = max_rest
        self.out = bytearray()
        self.blobs: list[BlobRef] = []

    def feed(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.max_rest:
            raise RestTooLarge()

    def close(self) -> bytes:
        return bytes(self.out)

    def discard(self) -> None:
        pass


def reducer(content_type: str, store: BlobStore, *, max_document: int, max_rest: int,
            threshold: int = THRESHOLD, shape: Shape = Shape()) -> Reducer:
    """The reducer for a body of ``content_type``."""
    msg = email.message.Message()
    msg["Content-Type"] = content_type or "text/xml"
    media = msg.get_content_type().lower()
    if media == "multipart/related":
        boundary = msg.get_param("boundary")
        start = msg.get_param("start")
        if isinstance(boundary, str) and boundary:
            start_text = email.utils.collapse_rfc2231_value(start).strip("<>") if start else ""
            return MtomReducer(store, max_document, max_rest, threshold, boundary, start_text, shape)
        return _PassThrough(max_rest)
    if media.startswith("multipart/"):
        return _PassThrough(max_rest)
    return XmlReducer(store, max_document, max_rest, threshold, shape)
