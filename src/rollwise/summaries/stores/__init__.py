"""One module per storage backend of the summaries job."""
