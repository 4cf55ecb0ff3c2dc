"""The errors rollwise raises on purpose: each says what is wrong and, where it can, the fix.

Anything else escaping a command is a bug; the CLI turns these into one line
and an exit code, the handlers let Lambda see them.
"""

from __future__ import annotations


class RollwiseError(Exception):
    """Something rollwise can explain in one sentence."""


class ConfigError(RollwiseError, ValueError):
    """A setting that is missing or malformed, named with where it came from."""


class StoreError(RollwiseError):
    """A storage backend refused or failed a request; the message names the store and the key."""


class StoreNotFound(StoreError):
    """The store (a SQLite file, a DynamoDB table) does not exist; the message says how to create it."""


class OutOfRetryTime(StoreError):
    """A store kept throttling or failing a request until the run's time for retries was spent: not a
    failure of the work, which is left to the next run, like work the run had no time for."""
