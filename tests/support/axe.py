"""axe-core (from the npm registry, fetched once per test session with ``npm pack``) injected into a
page, to check it for accessibility violations."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from playwright.sync_api import Page

#: the kinds of violations a page may not have
SEVERE = ("serious", "critical")


def fetch(cache: Path) -> str:
    """The text of axe.min.js, from ``npm pack axe-core`` unpacked in ``cache``."""
    script = cache / "package" / "axe.min.js"
    if not script.exists():
        cache.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", "axe-core", "--silent"], cwd=cache, check=True, capture_output=True,
                             text=True, timeout=180)
        tarball = cache / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            tar.extract("package/axe.min.js", cache, filter="data")
    return script.read_text()


def violations(page: Page, axe_js: str) -> list[dict]:
    """The serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_js)
    found = page.evaluate("""async () => {
        const result = await window.axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in found if v["impact"] in SEVERE]
