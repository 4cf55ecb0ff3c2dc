"""rollwise."""
