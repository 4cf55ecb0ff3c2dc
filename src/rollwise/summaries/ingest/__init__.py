"""Ingest: execution records validated and written (the Recorder), read from any item shape through a mapping,
and a table's history imported."""
