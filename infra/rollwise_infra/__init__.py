"""The rollwise CDK app: both jobs, their schedules, permissions, alarms and the optional fan-out."""
