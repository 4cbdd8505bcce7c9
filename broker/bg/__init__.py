"""StUF-BG 03.10 (persons, NPS): the operation table, dispatch, reading ``npsLv01`` into a person
question of the case model and rendering ``npsLa01`` from persons of the case model.

Layer: koppelvlak, beside broker.zds (it shares the operation row and the request types of the ZDS
koppelvlak). See docs/architecture.md and shared/docs/stuf-bg-primer.md.
"""
