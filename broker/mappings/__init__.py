"""Configuration that functional administrators maintain: the zaaktypecatalogus and the mappings.

Layer: mapping data, above the koppelvlak, below the adapters. See docs/architecture.md.
"""
