"""routes.yaml is validated at start-up: every problem with file:line and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.routing.config import load_routes

ADAPTERS = ["embedded", "stuf", "webhook"]


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "routes.yaml").write_text(text)
    return tmp_path


def test_without_routes_yaml_everything_goes_sync_to_the_embedded_zaaksysteem(tmp_path):
    routes = load_routes(tmp_path, ADAPTERS)
    assert list(routes.targets) == ["embedded", "personen"]  # StUF-BG questions: the embedded person register
    assert routes.routes[0].operations == ["*"] and routes.routes[0].deliver[0].mode == "sync"
    assert routes.routes[1].operations == ["npsLk01", "npsLv01"] and routes.routes[1].deliver[0].target == "personen"


def test_typos_are_reported_with_file_line_and_a_suggestion(tmp_path):
    d = write(tmp_path, """\
targets:
  zaaksysteem: {adapter: embeded}
routes:
  - operations: [creeerZak]
    deliver:
      - {target: zaaksysteme, mode: sync}
delivery:
  max_atempts: 3
""")
    with pytest.raises(ConfigError) as err:
        load_routes(d, ADAPTERS)
    text = str(err.value)
    assert "routes.yaml:8: unknown setting 'delivery.max_atempts' (did you mean 'max_attempts'?)" in text


def test_unknown_adapter_operation_and_target_are_named_with_their_lines(tmp_path):
    d = write(tmp_path, """\
targets:
  zaaksysteem: {adapter: embeded}
routes:
  - operations: [creeerZak]
    deliver:
      - {target: zaaksysteme, mode: sync}
""")
    with pytest.raises(ConfigError) as err:
        load_routes(d, ADAPTERS)
    text = str(err.value)
    assert "routes.yaml:2: target 'zaaksysteem': unknown adapter 'embeded'" in text and "did you mean 'embedded'" in text
    assert "routes.yaml:4: unknown operation 'creeerZak' (did you mean 'creeerZaak'?)" in text
    assert "routes.yaml:6: unknown target 'zaaksysteme' (did you mean 'zaaksysteem'?)" in text


def test_a_query_cannot_have_a_queued_primary(tmp_path):
    d = write(tmp_path, """\
targets:
  zs: {adapter: embedded}
routes:
  - operations: [geefZaakdetails]
    deliver:
      - {target: zs, mode: queued}
""")
    with pytest.raises(ConfigError) as err:
        load_routes(d, ADAPTERS)
    assert "routes.yaml:6: route 1: geefZaakdetails must be answered by the primary target" in str(err.value)
