"""AWS Lambda entry points: parse the event, build the job from the environment, run it, shape the response."""
