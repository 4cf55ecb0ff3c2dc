"""Administration of a store: a tenant's zone changed, the shard count changed, summaries exported."""
