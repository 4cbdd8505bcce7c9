"""What ``scripts/setup`` still has to do on this checkout: the decision behind a fast restart.

A set-up leaves two stamps: ``.venv/.setup-stamp`` (the hash of pyproject.toml, the virtualenv's
Python version and whether the test extra was installed) and ``xsd/installed/.setup-stamp`` (the hash
of xsd/MANIFEST.sha256 the schemas were installed against). When a stamp matches, that step is skipped;
when pyproject.toml, the Python or the manifest changes, it runs again. The broker still checks the
installed schemas against the manifest at every start-up, so a skipped step never hides a damaged set.

Standard library only: it runs before the broker's dependencies are installed.

    python scripts/setup_state.py check pip|xsd [--test]    # prints "install" or "ok"
    python scripts/setup_state.py record pip|xsd [--test]   # after the step succeeded
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP = ".setup-stamp"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pip_stamp(root: Path, test: bool, python_version: str | None = None) -> dict[str, object]:
    return {
        "pyproject": _sha256(root / "pyproject.toml"),
        "python": python_version or platform.python_version(),
        "test": test,
    }


def xsd_stamp(root: Path) -> dict[str, object]:
    return {"manifest": _sha256(root / "xsd" / "MANIFEST.sha256")}


def _read(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pip_needed(root: Path, test: bool, python_version: str | None = None) -> bool:
    """True unless the virtualenv was installed from this pyproject.toml with this Python, and with the
    test extra when ``test`` asks for it (a test install serves a plain run too)."""
    if not (root / ".venv" / "bin" / "python").exists():
        return True
    recorded = _read(root / ".venv" / STAMP)
    if recorded is None:
        return True
    wanted = pip_stamp(root, test, python_version)
    if recorded.get("pyproject") != wanted["pyproject"] or recorded.get("python") != wanted["python"]:
        return True
    return test and not recorded.get("test")


def xsd_needed(root: Path) -> bool:
    """True unless xsd/installed holds a set installed against this xsd/MANIFEST.sha256."""
    installed = root / "xsd" / "installed"
    return not installed.is_dir() or _read(installed / STAMP) != xsd_stamp(root)


def record(root: Path, step: str, test: bool) -> None:
    if step == "pip":
        path, stamp = root / ".venv" / STAMP, pip_stamp(root, test)
    else:
        path, stamp = root / "xsd" / "installed" / STAMP, xsd_stamp(root)
    path.write_text(json.dumps(stamp) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("check", "record") or argv[1] not in ("pip", "xsd"):
        print(__doc__, file=sys.stderr)
        return 2
    action, step, test = argv[0], argv[1], "--test" in argv[2:]
    if action == "record":
        record(ROOT, step, test)
        return 0
    needed = pip_needed(ROOT, test) if step == "pip" else xsd_needed(ROOT)
    print("install" if needed else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
