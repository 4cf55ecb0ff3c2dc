"""Settings: each a dataclass field with its default, its environment variable and its help beside it.

A setting resolves argument > environment > default. This is the one module
that reads the process environment; the AWS SDKs (boto3, obstore) read their
own ``AWS_*`` credentials. The settings dataclasses live with what they
configure; the deploy (``infra/``) takes their variable names from there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rollwise.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def setting(
    default: Any,
    env: str | tuple[str, ...] | None,
    help: str,
    *,
    minimum: float | None = None,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
) -> Any:
    """A settings field: its default, the variable(s) it is read from (the first set wins), its help.
    A ``secret`` one stays out of the settings' repr, so no log line or error that prints them carries it."""
    names = (env,) if isinstance(env, str) else tuple(env or ())
    return field(default=default, repr=not secret, metadata={"env": names, "help": help, "minimum": minimum, "choices": choices})


def resolve(cls: type[T], arguments: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> T:
    """An instance of the settings dataclass ``cls``: each field from ``arguments``
    (when not None), else its environment variable (when set and not blank), else its default."""
    env = os.environ if env is None else env
    arguments = arguments or {}
    unknown = set(arguments) - {f.name for f in fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if arguments.get(f.name) is not None:
            values[f.name] = _coerce(arguments[f.name], f, "--" + f.name.replace("_", "-"))
            continue
        for name in f.metadata.get("env", ()):
            raw = env.get(name, "")
            if raw.strip():
                values[f.name] = _coerce(raw.strip(), f, name)
                break
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from None


def environment(cls: type, **values: Any) -> dict[str, str]:
    """The environment that sets these fields of ``cls`` (for the deploy): ``{VARIABLE: text}``."""
    out = {}
    for f in fields(cls):
        if f.name in values and values[f.name] is not None:
            names = f.metadata.get("env", ())
            if not names:
                raise ValueError(f"{cls.__name__}.{f.name} is not read from the environment")
            value = values[f.name]
            out[names[0]] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {', '.join(sorted(unknown))}")
    return out


def variable(cls: type, name: str) -> str:
    """The environment variable of one field."""
    for f in fields(cls):
        if f.name == name and f.metadata.get("env"):
            return f.metadata["env"][0]
    raise KeyError(f"{cls.__name__}.{name} is not read from the environment")


def described(cls: type) -> list[tuple[str, str, Any, str]]:
    """``(variable, field, default, help)`` of every field read from the environment (the README's table)."""
    return [(f.metadata["env"][0], f.name, f.default, f.metadata["help"]) for f in fields(cls) if f.metadata.get("env")]


def _coerce(raw: Any, f: Any, source: str) -> Any:
    kind = type(f.default)
    value: Any
    if kind is bool:
        value = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
    elif kind is int:
        try:
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else int(str(raw))
        except ValueError:
            raise ConfigError(f"{source} must be a whole number, got {raw!r}") from None
    elif kind is float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{source} must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{source} must be a finite number, got {raw!r}")
    else:
        value = str(raw)
    minimum = f.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{source} must be at least {minimum}, got {value}")
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{source} must be one of {', '.join(choices)}, got {value!r}")
    return value


def state_home() -> Path:
    """Where a user's programs keep state between runs (the XDG base directory spec): ``$XDG_STATE_HOME``,
    else ``~/.local/state``."""
    return Path(os.environ.get("XDG_STATE_HOME", "").strip() or Path.home() / ".local" / "state")


def required(value: str, variable_name: str, what: str) -> str:
    """A setting the deployed function cannot run without."""
    if not value.strip():
        raise ConfigError(f"{variable_name} is not set: the function needs {what}")
    return value.strip()


@dataclass(frozen=True)
class AwsSettings:
    """Where AWS requests go. boto3 and obstore read credentials themselves."""

    region: str = setting("us-east-1", ("AWS_REGION", "AWS_DEFAULT_REGION"), "AWS region of the table, bucket and topics")
    endpoint_url: str = setting("", ("AWS_ENDPOINT_URL",), "send every AWS request here (an emulator)")
