"""The README's quickstart, run as written on a fresh copy of the project: ``scripts/run`` in one process,
then every command of the second terminal, each answer checked, and the messages found in the dashboard.

The copy is ``git archive HEAD`` with the quickstart's own files (README.md, fixtures/) from the working
tree. It gets its own virtualenv that borrows the installed dependencies of this checkout's ``.venv``
(a .pth file; no pip run) and imports the broker from the copy itself, with the set-up stamp that
``scripts/setup`` leaves, so ``scripts/run`` skips pip as on a checkout that is set up; the schemas are
installed by ``scripts/setup`` from ``../shared/xsd`` as on a first run. A second ``scripts/setup`` then
installs nothing (what makes a later ``scripts/run`` serve within seconds).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from tests.support.dashboard_site import DashboardClient
from tests.support.live import free_port

REPO = Path(__file__).resolve().parents[1]
SHARED_XSD = REPO.parent / "shared" / "xsd"
README = (REPO / "README.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.slow


def quickstart_blocks() -> list[list[str]]:
    """The ```sh blocks between the quickstart markers, as lists of command lines."""
    section = README.split("<!-- quickstart:begin -->", 1)[1].split("<!-- quickstart:end -->", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [[line for line in b.splitlines() if line.strip() and not line.lstrip().startswith("#")] for b in blocks]


def fresh_copy(tmp: Path) -> Path:
    copy = tmp / "stuf-broker"
    copy.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(copy)], input=archive, check=True)
    shutil.copy(REPO / "README.md", copy / "README.md")
    shutil.rmtree(copy / "fixtures", ignore_errors=True)
    shutil.copytree(REPO / "fixtures", copy / "fixtures")
    # a virtualenv of its own: the broker from the copy, the dependencies from this checkout's .venv
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(copy / ".venv")], check=True)
    python = copy / ".venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "quickstart.pth").write_text(f"{copy}\n{sysconfig.get_paths()['purelib']}\n")
    script = copy / ".venv" / "bin" / "stuf-broker"
    script.write_text(f"#!{python}\nimport sys\nfrom broker.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    subprocess.run([str(python), "scripts/setup_state.py", "record", "pip"], cwd=copy, check=True)
    return copy


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUF_BROKER_", "STUF_XSD_"))}
    env.update(STUF_XSD_SOURCE=str(SHARED_XSD), STUF_BROKER_URL=url, PYTHONDONTWRITEBYTECODE="1")
    return env


def test_the_quickstart_runs_as_written_on_a_fresh_copy(tmp_path: Path) -> None:
    server_block, commands = quickstart_blocks()[0], [c for b in quickstart_blocks()[1:] for c in b]
    assert server_block == ["scripts/run"]
    copy = fresh_copy(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(url)
    log = (tmp_path / "server.log").open("wb")
    # the README's port is 8080; here a free one (and $STUF_BROKER_URL for send, which it honours)
    server = subprocess.Popen(["bash", "-c", f"{server_block[0]} --port {port}"], cwd=copy, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("scripts/run did not serve: " + (tmp_path / "server.log").read_text()[-3000:])

        outputs: dict[str, str] = {}
        for command in commands:
            done = subprocess.run(["bash", "-c", command], cwd=copy, env=env, capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            words = shlex.split(command)
            if "send" in words:
                outputs[words[words.index("send") + 1]] = done.stdout
        for operation, code in {"creeerZaak": "Bv03", "actualiseerZaakstatus": "Bv03",
                                "voegZaakdocumentToe": "Bv03", "geefZaakdocumentLezen": "La01",
                                "geefZaakdetails": "La01"}.items():
            assert re.search(rf"^{code} ", outputs[operation], re.MULTILINE), outputs[operation]
        assert (copy / "kopie.txt").read_bytes() == (copy / "brief.txt").read_bytes()
        assert "saved" in outputs["geefZaakdocumentLezen"]
        details = outputs["geefZaakdetails"]
        assert "heeft/gerelateerde/code: SHV-2" in details and "1234QUICKDOC01" in details

        # the dashboard: the README's link, signed in as the user the last command added
        user_line = next(c for c in commands if "users add" in c)
        password = shlex.split(user_line.split("|")[0])[1]
        user = shlex.split(user_line.split("|")[1])[shlex.split(user_line.split("|")[1]).index("add") + 1]
        link = re.search(r"<http://127\.0\.0\.1:8080(/dashboard/[^>]+)>", README.split("quickstart:end")[0])
        assert link is not None
        client = DashboardClient(url)
        try:
            assert client.login(user, password).status_code == 303
            page = client.get(link.group(1).removeprefix("/dashboard"))
            assert page.status_code == 200
            for operation in ("creeerZaak", "actualiseerZaakstatus", "voegZaakdocumentToe"):
                assert operation in page.text, operation
        finally:
            client.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()

    # the next `scripts/run` on this checkout, now set up, installs nothing before it serves: its set-up
    # says nothing and needs neither pip (the copy's virtualenv has none) nor a schema install
    again = subprocess.run(["scripts/setup"], cwd=copy, env=env, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
