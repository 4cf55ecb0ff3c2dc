"""Period summaries: workflow executions rolled up per tenant, owner and metric type."""
