"""The StUF-BG operations the broker answers, on its ``/bg/...`` endpoints.

Each is a row of the same shape as a ZDS operation (broker.zds.operations.Operation); the port
carries the ``bg/`` prefix of its endpoint.
"""

from __future__ import annotations

from broker.zds.operations import Operation

BG_BEANTWOORD_VRAAG = "bg/BeantwoordVraag"
BG_ONTVANG_ASYNCHROON = "bg/OntvangAsynchroon"
BG_PORTS = (BG_BEANTWOORD_VRAAG, BG_ONTVANG_ASYNCHROON)

NPS_LV01 = Operation("npsLv01", "StUF-BG 03.10", BG_BEANTWOORD_VRAAG, "Lv01", "npsLv01", "npsLa01",
                     entiteittype="NPS")

#: an afnemer's kennisgeving to the broker: T places its afnemerindicatie for the person, V removes it
NPS_LK01 = Operation("npsLk01", "StUF-BG 03.10", BG_ONTVANG_ASYNCHROON, "Lk01", "npsLk01", "Bv03",
                     entiteittype="NPS")

OPERATIONS: tuple[Operation, ...] = (NPS_LV01, NPS_LK01)
BY_ELEMENT: dict[str, Operation] = {op.element: op for op in OPERATIONS}
NAMES = frozenset(op.name for op in OPERATIONS)
BY_NAME: dict[str, Operation] = {op.name.lower(): op for op in OPERATIONS}
#: the StUF-BG message elements the broker takes, and those it answers them with
ELEMENTS_SERVED = frozenset({op.element for op in OPERATIONS}
                            | {op.answer for op in OPERATIONS if op.answer not in ("Bv02", "Bv03")})
