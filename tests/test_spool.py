"""The body reducer (broker.stuf.spool) and the blob tokens (broker.store.blobs), piece by piece.

Large content must come out the same whatever the pieces the body arrives in; markup that merely
looks like text (attribute values with ``>``, comments, CDATA) must pass unchanged; a token a client
makes up must never open somebody else's file.
"""

from __future__ import annotations

import base64
import hashlib
import random
from pathlib import Path

import pytest

from broker.errors import StufError
from broker.store import blobs
from broker.stuf import spool
from tests.support import document_messages as d
from tests.support import messages as m
from tests.support.soapcall import SoapCaller

THRESHOLD = 4096  # small, so that the tests stay small


def _content(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def _reduce(store: blobs.BlobStore, body: bytes, content_type: str, piece: int,
            max_document: int = 10**6) -> tuple[bytes, list[blobs.BlobRef]]:
    r = spool.reducer(content_type, store, max_document=max_document, max_rest=10**6, threshold=THRESHOLD)
    for i in range(0, len(body), piece):
        r.feed(body[i:i + piece])
    return r.close(), r.blobs


@pytest.mark.parametrize("piece", [1, 3, 17, 4096, 10**6])
def test_inline_base64_is_moved_to_the_store_whatever_the_pieces(tmp_path: Path, piece: int) -> None:
    store = blobs.BlobStore(tmp_path)
    content = _content(50_000)
    head = (b'<?xml version="1.0"?><e:Envelope xmlns:e="x"><!-- a > b --><x a="1>2" b=\'<\'>'
            b'<![CDATA[ <inhoud>QUJD</inhoud> ]]><?pi x > y?><ZKN:inhoud k="v">')
    tail = b"</ZKN:inhoud><inhoud>QUJD</inhoud></x></e:Envelope>"
    body = head + base64.encodebytes(content) + tail
    out, refs = _reduce(store, body, "text/xml", piece)
    assert len(refs) == 1 and refs[0].sha256 == hashlib.sha256(content).hexdigest()
    assert out == head + refs[0].text().encode() + tail
    assert store.path(refs[0].sha256).read_bytes() == content
    assert b"".join(store.expand(out) or []) == head + base64.b64encode(content) + tail


@pytest.mark.parametrize("piece", [1, 5, 4096])
def test_mtom_parts_are_moved_to_the_store_binary_and_base64(tmp_path: Path, piece: int) -> None:
    store = blobs.BlobStore(tmp_path)
    content = _content(20_000, seed=2)
    body = (b"--B\r\nContent-Type: application/xop+xml\r\nContent-ID: <root>\r\n\r\n<e/>\r\n"
            b"--B\r\nContent-ID: <p1>\r\n\r\n" + content + b"\r\n"
            b"--B\r\nContent-ID: <p2>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(content) + b"\r\n--B--\r\n")
    out, refs = _reduce(store, body, 'multipart/related; boundary="B"; start="<root>"', piece)
    assert [r.sha256 for r in refs] == [hashlib.sha256(content).hexdigest()] * 2
    assert refs[0].raw() in out and refs[1].text().encode() in out and len(out) < 1000


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_line_ends_written_as_character_references_are_whitespace(tmp_path: Path, piece: int) -> None:
    """.NET's XmlWriter writes the CR of base64 line ends as ``&#xD;``; the parser would read whitespace."""
    store = blobs.BlobStore(tmp_path)
    content = _content(20_000, seed=3)
    text = base64.encodebytes(content).replace(b"\n", b"&#xD;\n").replace(b"A", b"A&#13;", 3)
    out, refs = _reduce(store, b"<a><inhoud>" + text + b"</inhoud></a>", "text/xml", piece)
    assert len(refs) == 1 and store.path(refs[0].sha256).read_bytes() == content


def test_small_content_and_other_text_stay_in_the_message(tmp_path: Path) -> None:
    store = blobs.BlobStore(tmp_path)
    big_text = b"x" * (THRESHOLD * 3)  # long, but not in an inhoud element
    body = b"<a><toelichting>" + big_text + b"</toelichting><inhoud>QUJD</inhoud></a>"
    out, refs = _reduce(store, body, "text/xml", 100)
    assert out == body and refs == []


def test_a_doctype_passes_unchanged_for_the_safe_parser_to_refuse(tmp_path: Path) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a><inhoud>' + b"QUJD" * 5000 + b"</inhoud></a>"
    out, refs = _reduce(blobs.BlobStore(tmp_path), body, "text/xml", 64)
    assert out == body and refs == []


def test_content_that_is_not_base64_is_refused(tmp_path: Path) -> None:
    body = b"<a><inhoud>" + b"QUJD" * 5000 + b"!!!!" + b"</inhoud></a>"
    with pytest.raises(StufError) as exc:
        _reduce(blobs.BlobStore(tmp_path), body, "text/xml", 1000)
    assert exc.value.code == "StUF055"
    assert not list((tmp_path / ".incoming").iterdir()), "the temporary file is removed"


def test_a_document_above_its_limit_is_refused_while_it_streams(tmp_path: Path) -> None:
    body = b"<a><inhoud>" + base64.b64encode(_content(30_000)) + b"</inhoud></a>"
    with pytest.raises(StufError) as exc:
        _reduce(blobs.BlobStore(tmp_path), body, "text/xml", 1000, max_document=20_000)
    assert exc.value.code == "StUF058" and exc.value.http_status == 413
    assert not list((tmp_path / ".incoming").iterdir())


def test_a_token_with_a_wrong_mac_opens_nothing(tmp_path: Path) -> None:
    store = blobs.BlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"geheim")
    ref = writer.finish()
    forged = blobs.BlobRef(ref.sha256, ref.size, "0" * 32)
    assert store.verify(ref) and not store.verify(forged)
    with pytest.raises(FileNotFoundError):
        store.open(forged)
    body = f"<inhoud>{forged.text()}</inhoud>".encode()
    assert store.expand(body) is None, "an answer leaves a forged token as it is"
    assert blobs.BlobStore(tmp_path).verify(ref), "the key is kept in the store, for every process"


def test_a_forged_token_in_a_request_is_refused(soap: SoapCaller) -> None:
    """A client that names a file it did not send (its sha256 may be known) gets StUF055, not the file."""
    zaak = soap.call("VerwerkSynchroonVrijBericht", m.genereer_zaak_identificatie()).text("zaak/identificatie")
    assert soap.call("OntvangAsynchroon", m.creeer_zaak(zaak),
                     soap_action=m.ZDS_ACTION + "creeerZaak_ZakLk01").berichtcode == "Bv03"
    forged = blobs.BlobRef(hashlib.sha256(b"x").hexdigest(), 1, "0" * 32)
    inhoud = (f'<ZKN:inhoud xmlns:xmime="{d.XMIME}" StUF:bestandsnaam="a.pdf">{forged.text()}</ZKN:inhoud>')
    answer = soap.call("OntvangAsynchroon", d.voeg_zaakdocument_toe("1234D0forged", zaak, inhoud_xml=inhoud),
                       soap_action=d.ACTION["voegZaakdocumentToe"])
    assert answer.fault is not None and "StUF055" in answer.content.decode()


@pytest.mark.parametrize("piece", [1, 13, 4096, 10**6])
def test_the_structure_limits_hold_for_markup_passed_in_bulk(tmp_path: Path, piece: int) -> None:
    """Ordinary markup between the places the reducer acts on goes through in bulk; an element with too
    many attributes or too many namespace declarations in it is still refused, in any pieces."""
    shape = spool.Shape(max_attributes=5, max_namespace_declarations=3)
    many_attributes = b"<a>" + b"<b " + b" ".join(b'x%d="1"' % i for i in range(6)) + b"/>" + b"<c>t</c>" * 500 + b"</a>"
    many_namespaces = b"<a>" + b"".join(b'<n%d xmlns:p%d="u"/>' % (i, i) for i in range(4)) + b"</a>"
    fine = b'<a xmlns:p="u"><b x="1" y="2"/>' + b"<c>t</c>" * 500 + b"<inhoud>" + b"QUJD" * 3000 + b"</inhoud></a>"
    for body, refused in ((many_attributes, "attributen"), (many_namespaces, "namespace"), (fine, None)):
        r = spool.reducer("text/xml", blobs.BlobStore(tmp_path), max_document=10**6, max_rest=10**6,
                          threshold=THRESHOLD, shape=shape)
        if refused is None:
            for i in range(0, len(body), piece):
                r.feed(body[i:i + piece])
            out = r.close()
            assert len(r.blobs) == 1 and out.startswith(b'<a xmlns:p="u"><b x="1" y="2"/>')
            continue
        with pytest.raises(StufError) as exc:
            for i in range(0, len(body), piece):
                r.feed(body[i:i + piece])
            r.close()
        assert exc.value.code == "StUF055" and refused in (exc.value.details or "")
