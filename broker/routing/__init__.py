"""Routes: which targets receive a message, and how (sync before answering, or queued).

Layer: delivery (below the queue), above services. See docs/architecture.md.
"""
