"""The dashboard's pages, one module per area; ``common`` holds the request plumbing they share."""
