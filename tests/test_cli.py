"""The ``stuf-broker`` command (validate, xsd install), the broker refusing to start on broken schemas or
configuration, and the served WSDLs with /healthz.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections import deque
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from click.testing import CliRunner
from lxml import etree

from broker.cli import main
from broker.config import DEFAULT_XSD_DIR, MANIFEST
from broker.stuf import ns
from broker.stuf.xsd_install import read_manifest, verify_installed
from tests.support import edge_messages as e
from tests.support import live
from tests.support import messages as m

REPO = live.REPO
SHARED_XSD = REPO.parent / "shared" / "xsd"
STUF_BROKER = Path(sys.executable).with_name("stuf-broker")


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _fo02(output: str) -> etree._Element:
    start = output.index("<StUF:Fo02Bericht")
    end = output.index("</StUF:Fo02Bericht>") + len("</StUF:Fo02Bericht>")
    return etree.fromstring(output[start:end])


# -- stuf-broker validate -----------------------------------------------------------------------
def test_validate_prints_valid_for_a_valid_message_through_the_console_script(tmp_path: Path) -> None:
    """The installed console script says ``valid`` and exits 0 for a conforming creeerZaak."""
    path = tmp_path / "creeer.xml"
    path.write_text(m.creeer_zaak("12340000000001"), encoding="utf-8")
    done = subprocess.run([str(STUF_BROKER), "validate", str(path)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{path}: valid"


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "soap-envelope"])
def test_validate_accepts_bare_messages_and_soap_envelopes(tmp_path: Path, wrapped: bool) -> None:
    """A valid message is valid on its own and inside a SOAP envelope."""
    xml = m.genereer_zaak_identificatie().encode()
    path = tmp_path / "gzi.xml"
    path.write_bytes(e.envelope(xml.decode()) if wrapped else xml)
    result = _cli("validate", str(path))
    assert (result.exit_code, result.output.strip()) == (0, f"{path}: valid")


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "soap-envelope"])
def test_validate_prints_a_fo02_with_stuf055_and_exits_non_zero_for_an_invalid_message(
    tmp_path: Path, schemas, wrapped: bool,
) -> None:
    """An invalid message gives exit 1, an ``invalid (StUF055 …)`` line and a schema-valid Fo02 naming line and path."""
    xml = m.creeer_zaak("12340000000001").replace("<ZKN:zaakniveau>1<", "\n<ZKN:zaakniveau>een<")
    path = tmp_path / "creeer.xml"
    path.write_bytes(e.envelope(xml) if wrapped else xml.encode())
    result = _cli("validate", str(path))
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}: invalid (StUF055: ")
    fo = _fo02(result.output)
    assert not schemas.issues(fo)
    code = fo.findtext(f"{{{ns.STUF}}}body/{{{ns.STUF}}}code")
    details = fo.findtext(f"{{{ns.STUF}}}body/{{{ns.STUF}}}details")
    assert code == "StUF055"
    assert "regel 2" in details and "ZKN:object/ZKN:zaakniveau" in details and "'een'" in details


def test_validate_refuses_a_document_with_a_doctype(tmp_path: Path) -> None:
    """A file with a DOCTYPE is not parsed but reported as StUF055."""
    path = tmp_path / "xxe.xml"
    path.write_text('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', encoding="utf-8")
    result = _cli("validate", str(path))
    assert result.exit_code == 1
    assert "StUF055" in result.output and "root:" not in result.output


# -- stuf-broker xsd install --------------------------------------------------------------------
def _install(source: Path | None, target: Path):
    args = ["xsd", "install"] + (["--from", str(source)] if source else [])
    env: dict[str, str | None] = {"STUF_XSD_DIR": str(target), "STUF_XSD_SOURCE": None}  # None: unset
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_xsd_install_from_the_default_shared_directory(tmp_path: Path) -> None:
    """Without --from the set comes from ../shared/xsd and is installed complete and unaltered."""
    target = tmp_path / "installed"
    result = _install(None, target)
    assert result.exit_code == 0, result.output
    assert f"installed {len(read_manifest(MANIFEST))} schema files" in result.output
    verify_installed(target, MANIFEST)


def test_xsd_install_from_a_zip_with_the_set_in_a_subfolder(tmp_path: Path) -> None:
    """A ZIP of the official set (inside a top folder) installs the same files."""
    archive = tmp_path / "stuf-schemas.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in SHARED_XSD.rglob("*"):
            if path.is_file():
                zf.write(path, Path("StUF-schemas-2018") / path.relative_to(SHARED_XSD))
    target = tmp_path / "installed"
    result = _install(archive, target)
    assert result.exit_code == 0, result.output
    verify_installed(target, MANIFEST)


def test_xsd_install_refuses_an_altered_set_naming_what_is_missing_and_altered(tmp_path: Path) -> None:
    """One file changed by a byte and one removed: non-zero exit, both named, and the installed set untouched."""
    target = tmp_path / "installed"
    assert _install(SHARED_XSD, target).exit_code == 0
    source = tmp_path / "xsd"
    shutil.copytree(SHARED_XSD, source)
    altered, missing = "zds0120/entiteiten/zds0120_ent_zs-dms.xsd", "0301/stuf0301mtom.xsd"
    data = bytearray((source / altered).read_bytes())
    data[-2] = ord(" ") if data[-2] != ord(" ") else ord("\t")
    (source / altered).write_bytes(bytes(data))
    (source / missing).unlink()
    result = _install(source, target)
    assert result.exit_code != 0
    assert f"missing: {missing}" in result.output
    assert f"altered: {altered}" in result.output
    verify_installed(target, MANIFEST)  # the earlier, good installation is still in place
    assert sorted(p.name for p in target.parent.iterdir()) == ["installed", "xsd"]  # no staging left behind


def test_the_default_install_folder_is_git_ignored() -> None:
    """xsd install writes to xsd/installed/, which .gitignore keeps out of the repository."""
    assert DEFAULT_XSD_DIR == REPO / "xsd" / "installed"
    assert "/xsd/installed/" in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_xsd_install_from_a_place_without_schemas_says_so(tmp_path: Path) -> None:
    """A source that does not exist, or holds no StUF set, gives a non-zero exit with a clear message."""
    result = _install(tmp_path / "nowhere", tmp_path / "installed")
    assert result.exit_code != 0 and "does not exist" in result.output
    (tmp_path / "empty").mkdir()
    result = _install(tmp_path / "empty", tmp_path / "installed")
    assert result.exit_code != 0 and "no StUF schema set found" in result.output


# -- the broker refuses to start ----------------------------------------------------------------
def _serve(tmp_path: Path, config: Path, xsd_dir: Path = DEFAULT_XSD_DIR) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STUF_XSD_DIR=str(xsd_dir), STUF_BROKER_DATA_DIR=str(tmp_path / "var"),
               STUF_BROKER_DATABASE_URL=f"sqlite:///{tmp_path / 'broker.db'}")
    env.pop("STUF_BROKER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "broker", "serve", "--config", str(config), "--port", str(live.free_port())],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def test_serve_refuses_to_start_without_installed_schemas(tmp_path: Path, config: Path) -> None:
    """No schema set installed: exit 2 and a message that says how to install it."""
    done = _serve(tmp_path, config, tmp_path / "no-schemas")
    assert done.returncode == 2
    assert "not installed" in done.stderr and "stuf-broker xsd install" in done.stderr


def test_serve_refuses_to_start_with_an_altered_schema(tmp_path: Path, config: Path) -> None:
    """An installed file that differs from the manifest is named, and the broker does not start."""
    xsd_dir = tmp_path / "installed"
    shutil.copytree(DEFAULT_XSD_DIR, xsd_dir)
    victim = "zkn0310/entiteiten/zkn0310_ent_basis.xsd"
    (xsd_dir / victim).write_bytes((xsd_dir / victim).read_bytes().replace(b"<", b" <", 1))
    done = _serve(tmp_path, config, xsd_dir)
    assert done.returncode == 2
    assert f"altered: {victim}" in done.stderr


def test_startup_names_a_schema_that_does_not_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema that passes the manifest but does not compile stops the start with its file named.

    The manifest check comes first and cannot be passed with an altered file, so it is bypassed here.
    """
    from broker.errors import SchemaError
    from broker.runtime import Broker

    xsd_dir = tmp_path / "installed"
    shutil.copytree(DEFAULT_XSD_DIR, xsd_dir)
    broken = xsd_dir / "zds0120/berichten/zds0120_msg_zs-dms.xsd"
    broken.write_bytes(broken.read_bytes().replace(b'type="ZKN:GeefZaakStatus-ZAK-Lv01"', b'type="ZKN:GeenType"'))
    monkeypatch.setattr("broker.runtime.verify_installed", lambda *_: None)
    settings = live.make_settings(tmp_path)
    settings.xsd_dir = xsd_dir
    with pytest.raises(SchemaError, match="does not compile") as raised:
        Broker(settings)
    assert f"{broken}:" in str(raised.value) and "GeenType" in str(raised.value)


def test_serve_refuses_an_invalid_broker_yaml_naming_file_and_line(tmp_path: Path, config: Path) -> None:
    """A misspelt key and a bad value in broker.yaml are both reported as file:line."""
    text = (config / "broker.yaml").read_text(encoding="utf-8")
    text = text.replace("gemeentecode: \"1234\"", "gemeentecode: \"12a4\"")
    text = text.replace("  tijdstip_increasing: false", "  tijdstip_increasng: false")
    (config / "broker.yaml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    bad_code = next(i for i, line in enumerate(lines, 1) if line.startswith("gemeentecode:"))
    typo = next(i for i, line in enumerate(lines, 1) if "tijdstip_increasng" in line)
    done = _serve(tmp_path, config)
    assert done.returncode == 2
    assert f"{config / 'broker.yaml'}:{bad_code}: gemeentecode" in done.stderr
    assert f"{config / 'broker.yaml'}:{typo}: unknown setting" in done.stderr
    assert "did you mean 'tijdstip_increasing'" in done.stderr


def test_serve_refuses_an_invalid_zaaktypecatalogus_naming_file_and_line(tmp_path: Path, config: Path) -> None:
    """A statustype with a non-numeric volgnummer in zaaktypecatalogus.yaml is reported as file:line."""
    path = config / "zaaktypecatalogus.yaml"
    text = path.read_text(encoding="utf-8").replace("{volgnummer: 2, code: SHV-2", "{volgnummer: twee, code: SHV-2")
    path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "volgnummer: twee" in s)
    done = _serve(tmp_path, config)
    assert done.returncode == 2
    assert f"{path}:{line}:" in done.stderr and "volgnummer" in done.stderr


# -- WSDL and health ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    lb = live.start(live.make_settings(tmp_path_factory.mktemp("wsdl")))
    yield lb
    lb.stop()


def _locations(doc: etree._Element) -> list[str]:
    found = []
    for el in doc.iter():
        if el.tag == ns.q(ns.WSDL, "import") and el.get("location"):
            found.append(el.get("location"))
        elif el.tag in (ns.q(ns.XS, "import"), ns.q(ns.XS, "include")) and el.get("schemaLocation"):
            found.append(el.get("schemaLocation"))
    return found


@pytest.mark.parametrize("port", ["BeantwoordVraag", "OntvangAsynchroon", "VerwerkSynchroonVrijBericht"])
def test_wsdl_points_at_the_broker_and_every_import_resolves_on_the_broker(served: live.LiveBroker, port: str) -> None:
    """?wsdl has soap:address = the broker's own URL, and all imported WSDLs and schemas are served by it."""
    with httpx.Client(timeout=10) as http:
        wsdl_url = f"{served.url}/zds/{port}?wsdl"
        response = http.get(wsdl_url)
        assert response.status_code == 200
        wsdl = etree.fromstring(response.content)
        addresses = [el.get("location") for el in wsdl.iter(ns.q(ns.WSDL_SOAP11, "address"),
                                                              ns.q(ns.WSDL_SOAP12, "address"))]
        assert addresses and set(addresses) == {f"{served.url}/zds/{port}"}
        seen: set[str] = set()
        queue = deque(urljoin(wsdl_url, loc) for loc in _locations(wsdl))
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            assert url.startswith(f"{served.url}/zds/xsd/"), f"import outside the broker: {url}"
            fetched = http.get(url)
            assert fetched.status_code == 200, url
            queue.extend(urljoin(url, loc) for loc in _locations(etree.fromstring(fetched.content)))
        assert any(u.endswith("zds0120_msg_zs-dms.xsd") for u in seen)


def test_the_schema_route_serves_only_the_installed_set(served: live.LiveBroker) -> None:
    """/zds/xsd/ serves files of the manifest, nothing else (no path traversal)."""
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{served.url}/zds/xsd/0301/stuf0301.xsd").status_code == 200
        for path in ("../broker.yaml", "..%2F..%2Fconfig%2Fbroker.yaml", "0301/../../MANIFEST.sha256", "nope.xsd"):
            assert http.get(f"{served.url}/zds/xsd/{path}").status_code == 404, path


def test_healthz_answers(served: live.LiveBroker) -> None:
    """/healthz answers 200 with status ok; an unknown port is a 404, not a crash."""
    response = httpx.get(f"{served.url}/healthz", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert httpx.get(f"{served.url}/zds/GeenPort?wsdl", timeout=5).status_code == 404


def test_what_the_broker_creates_is_private_to_it(tmp_path: Path) -> None:
    """The database (personal data) and the data folder are created 0600 and 0700."""
    data = tmp_path / "var"
    env = dict(os.environ, STUF_BROKER_DATA_DIR=str(data), STUF_BROKER_DATABASE_URL=f"sqlite:///{data / 'broker.db'}")
    env.pop("STUF_BROKER_CONFIG", None)
    done = subprocess.run([str(STUF_BROKER), "db", "upgrade"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((data / "broker.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_forged_host_header_never_reaches_the_served_wsdl(served: live.LiveBroker) -> None:
    """Without public_url the WSDL's address follows the Host header only for loopback names (or
    server.allowed_hosts); any other Host gets the configured host and port."""
    response = httpx.get(f"{served.url}/zds/OntvangAsynchroon?wsdl", headers={"Host": "evil.example:666"}, timeout=10)
    assert response.status_code == 200
    assert b"evil.example" not in response.content
    server = served.broker.settings.broker.server
    assert f"http://{server.host}:{server.port}/zds/OntvangAsynchroon".encode() in response.content
