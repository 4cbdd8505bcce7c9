"""Administration: what functional administrators and operators do to the running broker's
configuration, above the delivery machinery and below the edges (the mapping preview)."""
