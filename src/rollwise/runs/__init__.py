"""Merge and archive: run result files consolidated into one aggregate per closed window."""
