"""AWS Lambda entry points: parse the event, build the job from settings, run it, shape the response.

The names the deploy needs (handler paths, the metrics' service dimension) are
written here once; importing this package loads no handler.
"""

SUMMARIES_SERVICE = "rollwise-summaries"
RUNS_SERVICE = "rollwise-runs"
SUMMARIES_HANDLER = "rollwise.handlers.aggregate_summaries.lambda_handler"
RUNS_HANDLER = "rollwise.handlers.merge_runs.lambda_handler"
INGEST_SERVICE = "rollwise-ingest"
INGEST_HANDLER = "rollwise.handlers.ingest_stream.lambda_handler"
API_HANDLER = "rollwise.handlers.api.lambda_handler"
