"""``<config>/routes.yaml``: targets, routes and the delivery policy, validated at start-up.

Example::

    targets:
      zaaksysteem: {adapter: embedded}
      archief: {adapter: stuf, url: "https://archief.example.org/zds/", timeout: 10}
    routes:
      - operations: [creeerZaak, updateZaak, actualiseerZaakstatus]
        zenders: [PERSPECTIEF]        # optional: zender applicaties
        zaaktypen: [SHV]              # optional: zaaktype codes
        deliver:
          - {target: zaaksysteem, mode: sync}
          - {target: archief, mode: queued}
      - operations: ["*"]
        deliver: [{target: zaaksysteem, mode: sync}]
    delivery:
      max_attempts: 12
      ...

StUF-BG person questions (``npsLv01``) are routed by name to a person source (``personen-register``,
``brp-personen``) or to a StUF forward (an upstream StUF-BG service); ``"*"`` covers only the ZDS
operations. Without a route for them they go to the first person source, or to an embedded person
register the broker adds itself (seeded with the test persons)::

    targets:
      brp: {adapter: brp-personen, url: "https://proefomgeving.haalcentraal.nl/haalcentraal/api/brp",
            api_key_env: BRP_API_KEY}
    routes:
      - operations: [npsLv01]
        zenders: [KCC]
        deliver: [{target: brp, mode: sync}]

The first route that matches a message decides. Queries (Lv01) and synchronous vrije berichten
(Di02) are always answered by their primary target, which must then be ``sync``. Without a
routes.yaml every message goes ``sync`` to the embedded zaaksysteem.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from broker.bg.operations import NAMES as BG_NAMES
from broker.bg.operations import OPERATIONS as BG_OPERATIONS
from broker.errors import ConfigError, ConfigProblem
from broker.yamlfile import line_for, load_model
from broker.zds.operations import OPERATIONS

FILENAME = "routes.yaml"
OPERATION_NAMES = sorted(op.name for op in (*OPERATIONS, *BG_OPERATIONS))
#: the adapters that are person sources; a StUF-BG question goes to one of these (or to a StUF forward)
PERSON_ADAPTERS = frozenset({"personen-register", "brp-personen"})
FORWARD_ADAPTERS = frozenset({"stuf"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetDef(BaseModel):
    """``adapter`` names the kind (an alias); every other key is that adapter's own option."""

    model_config = ConfigDict(extra="allow")
    adapter: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class DeliverTo(_Strict):
    target: str
    mode: Literal["sync", "queued"] = "sync"


class Route(_Strict):
    operations: list[str] = Field(min_length=1)
    zenders: list[str] = []
    zaaktypen: list[str] = []
    deliver: list[DeliverTo] = Field(min_length=1)

    def matches(self, operation: str, zender: str | None, zaaktype: str | None) -> bool:
        # "*" stands for the ZDS operations: a StUF-BG question is routed by its name only
        if operation not in self.operations and ("*" not in self.operations or operation in BG_NAMES):
            return False
        if self.zenders and zender not in self.zenders:
            return False
        if self.zaaktypen and zaaktype not in self.zaaktypen:
            return False
        return True


class DeliveryPolicy(_Strict):
    max_attempts: int = Field(12, ge=1)
    max_age_seconds: int = Field(24 * 3600, ge=1)
    backoff_initial_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(900.0, gt=0)
    lease_seconds: int = Field(60, ge=1)
    #: when an earlier delivery of the same zaak to the same target went dead: "hold" keeps later
    #: ones waiting until an operator retries or cancels it; "skip" lets them through
    on_dead: Literal["hold", "skip"] = "hold"
    circuit_failure_threshold: int = Field(5, ge=1)
    circuit_open_seconds: float = Field(30.0, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(100, ge=1)
    #: payloads (raw XML) older than this are purged; metadata stays. 0 keeps them forever.
    retention_days: int = Field(90, ge=0)
    #: `stuf-broker serve` also delivers (each server process runs a worker); off when separate
    #: `stuf-broker worker` processes do the delivering
    worker_in_serve: bool = True
    #: with worker_in_serve: while requests keep coming in to its process, the worker pauses after
    #: each claim it delivered so that it takes at most this share (above 0, at most 1) of the
    #: process's time, counted in its threads' CPU time (a wait on a remote target costs no pause).
    #: The clients are answered first; what is queued meanwhile is delivered once the process is
    #: quiet. Under a load the host cannot both answer and deliver, the queue grows: run `stuf-broker
    #: worker` processes (they never pause) or raise the share. 1: no pauses
    worker_in_serve_share: float = Field(0.25, gt=0, le=1)
    #: threads of a worker process that deliver at the same time (they help remote targets; the
    #: embedded zaaksysteem's deliveries are claimed and written by one of them at a time)
    concurrency: int = Field(2, ge=1, le=64)


class RoutesFile(_Strict):
    targets: dict[str, TargetDef] = {}
    routes: list[Route] = []
    delivery: DeliveryPolicy = DeliveryPolicy()
    _file: str = PrivateAttr("routes.yaml")
    #: targets the broker added itself (the default person register)
    _implicit: set[str] = PrivateAttr(default_factory=set)
    _lines: dict = PrivateAttr(default_factory=dict)

    def locate(self, error: ConfigError, target: str) -> ConfigError:
        """``error`` (raised by the adapter of ``target`` about its options) with the line of the
        option each problem names, or of the target, where the adapter could not say it."""
        options = list(self.targets[target].options) if target in self.targets else []
        located = []
        for p in error.problems:
            if p.line is None and Path(p.file).name == FILENAME:
                found = min((m for k in options
                             if (m := re.search(rf"(?<![\w.]){re.escape(k)}(\.\w+)*\b", p.message))),
                            key=lambda m: m.start(), default=None)  # the option named first
                loc = ("targets", target, *found.group(0).split(".")) if found else ("targets", target, "__key__")
                p = ConfigProblem(self._file, line_for(self._lines, loc), p.message, p.suggestion)
            located.append(p)
        return ConfigError(located)

    @model_validator(mode="after")
    def _defaults(self) -> RoutesFile:
        if not self.targets:
            self.targets = {"embedded": TargetDef(adapter="embedded")}
        if not self.routes:
            self.routes = [Route(operations=["*"], deliver=[DeliverTo(target=next(iter(self.targets)), mode="sync")])]
        # StUF-BG messages without a route of their own: the first person source, else the
        # embedded person register (seeded with the test persons, see broker.adapters.personen_register)
        missing = BG_NAMES - {op for r in self.routes for op in r.operations}
        if missing:
            source = next((n for n, t in self.targets.items() if t.adapter in PERSON_ADAPTERS), None)
            if source is None:
                source = "personen"
                while source in self.targets:
                    source += "_"
                self.targets[source] = TargetDef(adapter="personen-register")
                self._implicit.add(source)
            self.routes.append(Route(operations=sorted(missing), deliver=[DeliverTo(target=source, mode="sync")]))
        return self


def load_routes(config_dir: Path, known_adapters: list[str]) -> RoutesFile:
    path = config_dir / FILENAME
    model, lines = load_model(path, RoutesFile, default={})
    problems: list[ConfigProblem] = []
    fname = str(path)

    def hint(value: str, options: list[str]) -> str | None:
        close = difflib.get_close_matches(value, options, n=1)
        return close[0] if close else None

    for name, t in model.targets.items():
        if t.adapter not in known_adapters and name not in model._implicit:
            problems.append(ConfigProblem(fname, line_for(lines, ("targets", name, "adapter")),
                                          f"target {name!r}: unknown adapter {t.adapter!r}; known: "
                                          + ", ".join(known_adapters), hint(t.adapter, known_adapters)))
    for i, route in enumerate(model.routes):
        for j, op in enumerate(route.operations):
            if op != "*" and op not in OPERATION_NAMES:
                problems.append(ConfigProblem(fname, line_for(lines, ("routes", i, "operations", j)),
                                              f"unknown operation {op!r}", hint(op, OPERATION_NAMES)))
        for j, d in enumerate(route.deliver):
            if d.target not in model.targets:
                problems.append(ConfigProblem(fname, line_for(lines, ("routes", i, "deliver", j, "target")),
                                              f"unknown target {d.target!r}", hint(d.target, list(model.targets))))
        first = route.deliver[0]
        bg_ops = [op for op in route.operations if op in BG_NAMES]
        if bg_ops and first.target in model.targets and (
                model.targets[first.target].adapter not in PERSON_ADAPTERS | FORWARD_ADAPTERS):
            problems.append(ConfigProblem(
                fname, line_for(lines, ("routes", i, "deliver", 0, "target")),
                f"route {i + 1}: {', '.join(bg_ops)} must be answered by a person source "
                f"({', '.join(sorted(PERSON_ADAPTERS | FORWARD_ADAPTERS))}), not by {first.target!r}"))
        synchronous_ops = [op for op in route.operations
                           if op == "*" or (op in OPERATION_NAMES and _answered_by_primary(op))]
        if synchronous_ops and first.mode != "sync":
            problems.append(ConfigProblem(
                fname, line_for(lines, ("routes", i, "deliver", 0, "mode")),
                f"route {i + 1}: {', '.join(synchronous_ops)} must be answered by the primary target, "
                "so the first target must have mode sync"))
    if problems:
        raise ConfigError(problems)
    model._file, model._lines = fname, lines
    return model


def _answered_by_primary(op_name: str) -> bool:
    op = next(o for o in (*OPERATIONS, *BG_OPERATIONS) if o.name == op_name)
    return op.berichtcode in ("Lv01", "Di02")
