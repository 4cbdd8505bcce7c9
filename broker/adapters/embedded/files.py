"""Content-addressed file store for document content of the embedded zaaksysteem.

Content is written under its sha256 before the database transaction commits; a rolled-back
transaction leaves at most an unreferenced file, never a reference without content.

Large content arrives already in the store: the edge wrote it there while reading the request
(broker.stuf.spool) and the case model carries a :class:`~broker.store.blobs.BlobRef`; the store
only checks the reference (its mac) and keeps the file. Such content is answered as a reference
too (above ``in_memory_limit``) and streamed by the edge, never read into memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from broker.errors import StufError
from broker.model import Inhoud
from broker.store.blobs import BlobRef, BlobStore
from broker.stuf.spool import THRESHOLD


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobStore(root)
        #: content above this size is answered as a reference to the file, not as bytes
        self.in_memory_limit = THRESHOLD

    def put_inhoud(self, inhoud: Inhoud) -> tuple[str, int]:
        if inhoud.blob is None:
            return self.put(inhoud.data)
        if not self.blobs.verify(inhoud.blob):
            raise StufError("StUF055", "De inhoud van het document verwijst naar een bestand dat er niet is",
                            "een ongeldige verwijzing in plaats van de base64-inhoud")
        return inhoud.blob.sha256, inhoud.blob.size

    def ref(self, digest: str, size: int) -> BlobRef:
        return self.blobs.ref(digest, size)

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return digest, len(data)

    def get(self, digest: str) -> bytes:
        return self._path(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()
