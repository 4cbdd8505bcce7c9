"""The broker's database: message log, embedded zaaksysteem, queue; SQLite by default, PostgreSQL by URL.

Layer: foundation (with errors, foutcodes, config, logging, yamlfile); imports no other layer. See docs/architecture.md.
"""
