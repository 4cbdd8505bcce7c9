"""Document content kept out of the XML: file-backed blobs and the short tokens that stand for them.

A large ``StUF:BinaireInhoud`` (inline base64 or an MTOM part) is decoded straight into the file
store while the request is read (:mod:`broker.stuf.spool`); the message the rest of the broker sees
carries a *token* in its place. The token is valid base64 (the schema types the element as
base64Binary, so the whole message still validates), and it decodes to a fixed ASCII line::

    stuf-broker-blob1:<sha256 hex>:<size, 15 digits>:<mac>.

``mac`` is an HMAC over digest and size with a key kept in the file store, so a client cannot forge a
token that points at somebody else's document: every reader opens content through
:meth:`BlobStore.open`, which verifies the mac (the embedded zaaksysteem refuses a forged token with
StUF055; in an answer a token that does not verify is left as it is). The file lives
content-addressed at ``<root>/<sha[:2]>/<sha>`` (the layout of the embedded zaaksysteem's file
store, which then holds it without a copy). This module is part of the foundation (``broker.store``)
so that every adapter may read content, the ZGW adapter too.

Answers carry tokens too; the edge expands them while it streams the answer (:func:`expand`): a
token in XML text becomes the file's base64, a raw token (an MTOM part) the file's bytes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"stuf-broker-blob1:"  # 18 bytes: its base64 is a fixed 24-character prefix
TEXT_MAGIC = base64.b64encode(MAGIC)
_RAW = re.compile(rb"stuf-broker-blob1:([0-9a-f]{64}):([0-9]{15}):([0-9a-f]{32})\.")
RAW_LENGTH = len(MAGIC) + 64 + 1 + 15 + 1 + 32 + 1  # 132, a multiple of 3: no base64 padding
TEXT_LENGTH = RAW_LENGTH // 3 * 4
_TEXT = re.compile(re.escape(TEXT_MAGIC) + rb"[A-Za-z0-9+/]{%d}" % (TEXT_LENGTH - len(TEXT_MAGIC)))
#: whitespace as a character reference (tab, LF, CR, space; decimal or hexadecimal)
_WHITESPACE_REF = re.compile(rb"&#(?:[xX]0*(?:9|[aA]|[dD]|20)|0*(?:9|10|13|32));")
#: read and encode files in pieces of this many bytes (a multiple of 3 and of 57: whole base64 lines)
CHUNK = 57 * 3 * 1024


@dataclass(frozen=True)
class BlobRef:
    """Document content in the file store: its sha256, its size and the mac of the token."""

    sha256: str
    size: int
    mac: str

    def raw(self) -> bytes:
        return MAGIC + f"{self.sha256}:{self.size:015d}:{self.mac}.".encode("ascii")

    def text(self) -> str:
        return base64.b64encode(self.raw()).decode("ascii")


def from_raw(data: bytes) -> BlobRef | None:
    """The reference a raw token stands for (not verified), or None."""
    if len(data) != RAW_LENGTH:
        return None
    m = _RAW.fullmatch(data)
    return BlobRef(m.group(1).decode(), int(m.group(2)), m.group(3).decode()) if m else None


def from_text(text: str | None) -> BlobRef | None:
    """The reference a base64 token in XML text stands for (not verified), or None."""
    if not text:
        return None
    text = text.strip()
    if len(text) != TEXT_LENGTH or not text.startswith(TEXT_MAGIC.decode()):
        return None
    try:
        return from_raw(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None


_last_sweep: dict[Path, float] = {}


class BlobStore:
    """The content-addressed files under ``root`` and the key that signs their tokens."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._key: bytes | None = None

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def key(self) -> bytes:
        if self._key is None:
            self.root.mkdir(parents=True, exist_ok=True)
            keyfile = self.root / ".blob-key"
            try:
                fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_hex(32).encode())
                    fh.flush()
                    os.fsync(fh.fileno())
            key = b""
            for _ in range(50):  # another process may be writing it this very moment
                key = keyfile.read_bytes().strip()
                if len(key) == 64:
                    break
                time.sleep(0.01)
            self._key = key
        return self._key

    def ref(self, digest: str, size: int) -> BlobRef:
        return BlobRef(digest, size, self._mac(digest, size))

    def _mac(self, digest: str, size: int) -> str:
        return hmac.new(self.key(), f"{digest}:{size}".encode(), hashlib.sha256).hexdigest()[:32]

    def verify(self, ref: BlobRef) -> bool:
        return hmac.compare_digest(ref.mac, self._mac(ref.sha256, ref.size)) and self.path(ref.sha256).exists()

    def open(self, ref: BlobRef) -> BinaryIO:
        if not self.verify(ref):
            raise FileNotFoundError(f"no valid blob {ref.sha256}")
        return self.path(ref.sha256).open("rb")

    def writer(self, limit: int | None = None) -> BlobWriter:
        self._sweep()
        return BlobWriter(self, limit)

    def _sweep(self) -> None:
        """Remove temporary files a stopped process left in ``.incoming`` (older than a day; an upload
        in progress is never that old); at most once an hour per process."""
        now = time.time()
        if now - _last_sweep.get(self.root, 0.0) < 3600:
            return
        _last_sweep[self.root] = now
        try:
            for tmp in (self.root / ".incoming").glob("blob-*"):
                with contextlib.suppress(OSError):
                    if now - tmp.stat().st_mtime > 86400:
                        tmp.unlink()
        except OSError:
            pass

    def adopt(self, tmp: Path, digest: str, size: int) -> BlobRef:
        """Move a finished temporary file to its place (or drop it: the same content is there)."""
        path = self.path(digest)
        if path.exists():
            tmp.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        return self.ref(digest, size)

    # -- answers -----------------------------------------------------------------------------
    def expand(self, body: bytes) -> Iterator[bytes] | None:
        """The body with every verified token replaced by its content, in pieces; None when the body
        holds no token (the common case: the caller sends it as it is)."""
        if MAGIC not in body and TEXT_MAGIC not in body:
            return None
        spans: list[tuple[int, int, BlobRef, bool]] = []
        for m in _RAW.finditer(body):
            ref = from_raw(m.group(0))
            if ref is not None and self.verify(ref):
                spans.append((m.start(), m.end(), ref, False))
        for m in _TEXT.finditer(body):
            ref = from_text(m.group(0).decode("ascii"))
            if ref is not None and self.verify(ref):
                spans.append((m.start(), m.end(), ref, True))
        if not spans:
            return None
        spans.sort(key=lambda s: s[0])
        return self._pieces(body, spans)

    def expanded_length(self, body: bytes) -> int:
        """The length of :func:`expand`'s output, for a Content-Length."""
        total = len(body)
        for m in _RAW.finditer(body):
            ref = from_raw(m.group(0))
            if ref is not None and self.verify(ref):
                total += ref.size - RAW_LENGTH
        for m in _TEXT.finditer(body):
            ref = from_text(m.group(0).decode("ascii"))
            if ref is not None and self.verify(ref):
                total += (ref.size + 2) // 3 * 4 - TEXT_LENGTH
        return total

    def _pieces(self, body: bytes, spans: list[tuple[int, int, BlobRef, bool]]) -> Iterator[bytes]:
        at = 0
        for start, end, ref, as_base64 in spans:
            if start < at:  # overlapping matches cannot happen with these patterns; be safe anyway
                continue
            yield body[at:start]
            with self.open(ref) as fh:
                while piece := fh.read(CHUNK):
                    yield base64.b64encode(piece) if as_base64 else piece
            at = end
        yield body[at:]


class TooLarge(Exception):
    """The content grew beyond the limit while it was written."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} > {limit}")
        self.size, self.limit = size, limit


class BadBase64(Exception):
    pass


class BlobWriter:
    """Writes content to a temporary file in the store, hashing it on the way; optionally decoding
    base64 (whitespace ignored, padding only at the end) in pieces of any size."""

    def __init__(self, store: BlobStore, limit: int | None) -> None:
        self.store = store
        self.limit = limit
        incoming = store.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=incoming, prefix="blob-")
        self.tmp = Path(name)
        self.fh = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.size = 0
        self._b64_rest = b""
        self._padded = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            self.discard()
            raise TooLarge(self.size, self.limit)
        self.hash.update(data)
        self.fh.write(data)

    def write_base64(self, text: bytes) -> None:
        """Decode base64 text from XML: whitespace, also written as a character reference (.NET writes
        the CR of its line ends as ``&#xD;``), is skipped; a reference cut in two by the piece
        boundary waits for the next piece."""
        text = self._b64_rest + text
        held = b""
        amp = text.rfind(b"&", max(0, len(text) - 10))
        if amp >= 0 and b";" not in text[amp:]:
            text, held = text[:amp], text[amp:]
        if b"&" in text:
            text = _WHITESPACE_REF.sub(b"", text)
        text = text.translate(None, b" \t\r\n")
        cut = len(text) - len(text) % 4
        self._b64_rest = text[cut:] + held
        if cut:
            self._decode(text[:cut])

    def _decode(self, quartets: bytes) -> None:
        if self._padded:
            raise BadBase64("data after the base64 padding")
        try:
            data = binascii.a2b_base64(quartets, strict_mode=True)
        except binascii.Error as exc:
            raise BadBase64(str(exc)) from None
        self._padded = quartets.endswith(b"=")
        self.write(data)

    def finish(self) -> BlobRef:
        if self._b64_rest:
            raise BadBase64("the base64 text does not end on a whole group of four characters")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return self.store.adopt(self.tmp, self.hash.hexdigest(), self.size)

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)
