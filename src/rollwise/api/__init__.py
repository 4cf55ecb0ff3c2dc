"""The read API: usage and summaries per tenant, the merge job's windows, health; one app, two hosts
(:mod:`rollwise.handlers.api` behind API Gateway, :mod:`rollwise.api.serve` locally)."""
