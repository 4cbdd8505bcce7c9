"""Administration: what functional administrators and operators do to the running broker's
configuration, above the delivery machinery and below the edges (the mapping preview).

Layer: administration, above intake, below the composition root. See docs/architecture.md.
"""
