"""The broker's database: message log, embedded zaaksysteem, queue; SQLite by default, PostgreSQL by URL."""
