"""Stageflow's settings: defaults, a TOML file, environment variables, then overrides.

``config/stageflow.toml`` is the single list of settings: each key there, with its
default, is a setting, and the type of the default is the setting's type. Later
sources override earlier ones: the file named by ``STAGEFLOW_CONFIG``, then
``STAGEFLOW_<KEY>`` environment variables, then the mapping given to
``create_app(config=...)``. A wrong name or value is a :class:`ConfigError` that names
the key and where it came from.
"""

from __future__ import annotations

import json
import os
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "config" / "stageflow.toml"
CONFIG_FILE_VARIABLE = "STAGEFLOW_CONFIG"
ENVIRONMENT_PREFIX = "STAGEFLOW_"
OVERRIDES_SOURCE = "create_app(config=...)"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOG_LEVELS = ("CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING")
#: How the email channel talks to ``smtp_host``: plain, upgraded with STARTTLS, or TLS.
SMTP_SECURITY = ("none", "starttls", "tls")


class ConfigError(Exception):
    """A setting with an unknown name or a bad value; the message says which and where."""


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return the settings, lower-case keys, from every source in order of precedence.

    ``overrides`` keys name settings in either case (``database_url`` or
    ``DATABASE_URL``); other upper-case keys are Flask's own settings (``TESTING``) and
    are returned unchanged. ``environ`` defaults to ``os.environ``. Raises
    :class:`ConfigError` for an unknown key or a value of the wrong type or range.
    """
    environ = os.environ if environ is None else environ
    defaults = read_toml(DEFAULTS_FILE)
    settings = dict(defaults)
    sources = dict.fromkeys(defaults, str(DEFAULTS_FILE))

    def apply(key: str, value: Any, source: str, *, text: bool = False) -> None:
        settings[key] = convert(key, value, defaults[key], source, text=text)
        sources[key] = source

    if path := environ.get(CONFIG_FILE_VARIABLE):
        for key, value in read_toml(Path(path)).items():
            _check_known(key, defaults, path)
            apply(key, value, path)
    for key in defaults:
        variable = ENVIRONMENT_PREFIX + key.upper()
        if variable in environ:
            apply(key, environ[variable], f"environment variable {variable}", text=True)
    for key, value in (overrides or {}).items():
        if key.isupper() and key.lower() not in defaults:
            settings[key] = value  # a Flask setting, passed through
            continue
        _check_known(key.lower(), defaults, OVERRIDES_SOURCE)
        apply(key.lower(), value, OVERRIDES_SOURCE)
    for key, check in _CHECKS.items():
        if problem := check(settings[key]):
            raise ConfigError(f"{sources[key]}: {key}: {problem}, got {settings[key]!r}")
    return settings


def read_toml(path: Path) -> dict[str, Any]:
    """Read a settings file, raising :class:`ConfigError` if it is missing or malformed."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def convert(key: str, value: Any, default: Any, source: str, *, text: bool = False) -> Any:
    """Return ``value`` as the type of ``default``, or raise :class:`ConfigError`.

    With ``text`` (values from the environment), text is parsed into the type (a table
    from a JSON object; a list from a JSON array or from names separated by commas);
    other sources are typed already (TOML, Python) and must match.
    """
    kind = type(default)
    if text and kind is list and not value.lstrip().startswith("["):
        return [word.strip() for word in value.split(",") if word.strip()]
    if text and kind in (dict, list):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, kind):
            return parsed
    elif text and kind is not str:
        word = value.strip()
        try:
            if kind is bool:
                if word.lower() in _TRUE | _FALSE:
                    return word.lower() in _TRUE
                raise ValueError(word)
            return kind(word)
        except ValueError:
            pass
    elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{source}: {key} must be {_TYPE_NAMES[kind]}, got {value!r}")


def _check_known(key: str, defaults: Mapping[str, Any], source: str) -> None:
    if key not in defaults:
        known = ", ".join(sorted(defaults))
        raise ConfigError(f"{source}: unknown setting {key!r}; known settings: {known}")


def _is_time_zone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "must be an IANA time zone such as 'UTC' or 'Europe/Berlin'"
    return None


def _at_least(minimum: int) -> Callable[[int], str | None]:
    return lambda value: None if value >= minimum else f"must be at least {minimum}"


def _between(minimum: int, maximum: int) -> Callable[[int], str | None]:
    return lambda value: (
        None if minimum <= value <= maximum else f"must be from {minimum} to {maximum}"
    )


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


def _are_names(value: list[Any]) -> str | None:
    if all(isinstance(name, str) and name.strip() for name in value):
        return None
    return 'must be a list of names, such as ["log", "email"]'


def _is_host(value: str) -> str | None:
    if "/" in value or any(char.isspace() for char in value):
        return "must be a host name or address such as 'smtp.example.com', not a URL"
    return None


def _is_address(value: str) -> str | None:
    if value and "@" not in parseaddr(value)[1]:
        return "must be an email address, e.g. 'Stageflow <stageflow@example.com>'"
    return None


def _is_base_url(value: str) -> str | None:
    scheme, _, rest = value.partition("://")
    if value and (scheme not in ("http", "https") or not rest.strip("/")):
        return "must be empty or an http:// or https:// URL, e.g. 'https://stageflow.example.com'"
    return None


def _is_token(value: str) -> str | None:
    if value and (len(value) < 16 or any(char.isspace() for char in value)):
        return "must be empty or at least 16 characters without spaces"
    return None


_TYPE_NAMES = {
    str: "text",
    int: "a whole number (e.g. 5)",
    float: "a number (e.g. 2.5)",
    bool: "true or false",
    dict: "a table (in the environment: a JSON object)",
    list: "a list (in the environment: names separated by commas, or a JSON array)",
}

# Range and format checks beyond the type, by setting.
_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "workers": _at_least(0),
    "job_lease_seconds": _at_least(1),
    "record_feed_seconds": _at_least(1),
    "sla_check_seconds": _at_least(1),
    "sqlite_busy_timeout_ms": _at_least(0),
    "timezone": _is_time_zone,
    "log_level": _one_of(_LOG_LEVELS),
    "notification_channels": _are_names,
    "base_url": _is_base_url,
    "smtp_host": _is_host,
    "smtp_port": _between(1, 65535),
    "smtp_security": _one_of(SMTP_SECURITY),
    "smtp_from": _is_address,
    "smtp_timeout_seconds": _at_least(1),
    "metrics_token": _is_token,
}
