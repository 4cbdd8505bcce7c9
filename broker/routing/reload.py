"""routes.yaml taken into use while the broker runs, like the mapping files (broker.mappings.store).

Every broker process looks at routes.yaml at each configuration refresh (``STUF_BROKER_CONFIG_REFRESH_SECONDS``).
A changed file is validated as at start-up (every problem with file:line) and its targets are built;
only then are the routes, the targets and the delivery policy swapped in at once. A target whose
definition did not change keeps its object (connections, circuit); a changed or removed one is closed
when the broker stops, so a delivery under way finishes on it. A change that does not validate, or a
target that cannot be built (an Open Zaak secret_env that is not set), is refused: the previous routes
stay in use and every problem is logged and handed to ``on_refused`` (the dashboard shows it).

Deliveries queued for a target that a new version no longer has go dead ("unknown target") for an
operator to retry or cancel; ``stuf-broker check`` shows what a change would do before it is saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from broker.adapters.targets import Target
from broker.errors import ConfigError, ConfigProblem
from broker.routing.config import FILENAME, RoutesFile, load_routes

log = structlog.get_logger("broker.config")

#: builds one target: (name, adapter alias, options) -> Target; raises ConfigError about its options
BuildTarget = Callable[[RoutesFile, str, str, dict[str, Any]], Target]


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class RoutesReloader:
    def __init__(self, config_dir: Path, adapters: list[str], routes: RoutesFile, targets: dict[str, Target],
                 build_target: BuildTarget, take_over: Callable[[RoutesFile, dict[str, Target]], None],
                 on_refused: Callable[[str, list[ConfigProblem]], None],
                 on_taken: Callable[[str], object]) -> None:
        self.path = Path(config_dir) / FILENAME
        self.config_dir = Path(config_dir)
        self.adapters = adapters
        self.routes = routes
        self.targets = targets
        self.build_target = build_target
        self.take_over = take_over
        self.on_refused = on_refused
        self.on_taken = on_taken
        #: targets replaced by a new version, closed with the broker (a delivery may still be on one)
        self.retired: list[Target] = []
        self._seen = _sha(self.path)

    def refresh(self) -> bool:
        """Take a changed routes.yaml into use; True when it was."""
        sha = _sha(self.path)
        if sha == self._seen:
            return False
        self._seen = sha
        try:
            routes = load_routes(self.config_dir, self.adapters)
            targets = self._targets(routes)
        except ConfigError as exc:
            self.on_refused(FILENAME, exc.problems)
            log.error("changed routes.yaml refused; the previous routes stay in use",
                      file=str(self.path), problems=[str(p) for p in exc.problems])
            return False
        kept = {id(t) for t in targets.values()}
        self.retired += [t for t in self.targets.values() if id(t) not in kept]
        self.take_over(routes, targets)
        self.routes, self.targets = routes, targets
        self.on_taken(FILENAME)
        log.info("changed routes.yaml taken into use", targets=sorted(targets), routes=len(routes.routes))
        return True

    def _targets(self, routes: RoutesFile) -> dict[str, Target]:
        """The targets of ``routes``: the objects in use where a definition is unchanged, new ones
        otherwise (every problem of every target at once)."""
        built: dict[str, Target] = {}
        problems: list[ConfigProblem] = []
        for name, definition in routes.targets.items():
            old = self.routes.targets.get(name)
            if old is not None and old == definition and name in self.targets:
                built[name] = self.targets[name]
                continue
            try:
                built[name] = self.build_target(routes, name, definition.adapter, definition.options)
            except ConfigError as exc:
                problems += exc.problems
        if problems:
            for name, target in built.items():  # built for nothing: close what was new
                if target is not self.targets.get(name):
                    close = getattr(target, "close", None)
                    if close is not None:
                        close()
            raise ConfigError(problems)
        return built
