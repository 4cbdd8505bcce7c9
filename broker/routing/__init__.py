"""Routes: which targets receive a message, and how (sync before answering, or queued)."""
