"""Strict parsing of environment variables: a mistyped value is an error, not a default.

An empty value (``NAME=`` in a ``.env`` file) is the default, as when the variable is unset.
Each error is a ``SettingError`` naming the variable and what it takes; ``manage.py`` prints
it as one line (no traceback), gunicorn and Celery at the end of theirs.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from email.utils import parseaddr

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
DATABASE_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A request rate (API_THROTTLE_RATE, read by msp_ops.api.throttling): a count, then a period.
_RATE = re.compile(r"([1-9][0-9]*)/([a-z]+)", re.IGNORECASE)
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}


class SettingError(ImproperlyConfigured):
    """A variable of the environment that the app cannot take, with what it takes instead."""


def _raw(name: str) -> str | None:
    """The variable's value, None when unset or empty."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw


def env_bool(name: str, *, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, *, default: int) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number.") from None


def env_log_level(name: str, *, default: str) -> str:
    """A level of Python's logging, in any case (``debug`` is ``DEBUG``)."""
    raw = _raw(name)
    if raw is None:
        return default
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        choices = f"{', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}"
        raise SettingError(f"{name}={raw!r} is not a log level; use {choices}.")
    return level


def parse_rate(rate: str) -> tuple[int, int] | None:
    """``"6000/min"`` -> (6000, 60): requests and the seconds they are counted over; None when
    ``rate`` is none (the period: s, sec, second, m, min, minute, h, hour, d, day, any case, or
    a plural: ``100/hours``)."""
    match = _RATE.fullmatch(rate.strip())
    if match is None:
        return None
    count, period = match.groups()
    period = period.lower()
    # A plural of a word (``hours``, ``mins``), not of a letter (``ms`` is no minutes).
    seconds = _PERIODS.get(period) or (_PERIODS.get(period.removesuffix("s")) if len(period) > 2 else None)
    return (int(count), seconds) if seconds else None


def env_rate(name: str, *, default: str) -> str:
    """A request rate, ``count/period`` (``parse_rate``): ``6000/min``, ``100/s``, ``50000/day``."""
    raw = _raw(name)
    if raw is None:
        return default
    rate = raw.strip()
    if parse_rate(rate) is None:
        raise SettingError(
            f"{name}={raw!r} is not a rate; use requests/period, e.g. 6000/min (period: s, min, hour or day)."
        )
    return rate


def env_admins(name: str) -> list[tuple[str, str]]:
    """Who gets the error mail: ``Ops <ops@example.com>, dev@example.com`` (Django's ADMINS)."""
    raw = _raw(name)
    if raw is None:
        return []
    admins = []
    for part in filter(None, (part.strip() for part in raw.split(","))):
        display, address = parseaddr(part)
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
            raise SettingError(f"{name}: {part!r} is not an address; use Name <user@example.com>, ...")
        admins.append((display or address, address))
    return admins


def env_database(name: str, *, default: str, parse: Callable[[str], dict]) -> dict:
    """The database of the URL in ``name`` (else ``default``), read by ``parse`` (django-environ's
    ``db_url_config``), refused unless it names an engine and a database. Set but empty is
    refused too: silently the embedded SQLite file instead of the server meant is no default."""
    raw = os.environ.get(name)
    url = default if raw is None else raw.strip()
    try:
        with warnings.catch_warnings():  # django-environ warns of an unknown scheme: refused below
            warnings.simplefilter("ignore")
            config = parse(url)
    except Exception:  # a port that is no number ...
        config = {}
    if not config.get("ENGINE") or not config.get("NAME"):
        raise SettingError(
            f"{name}={raw!r} is not a database URL; use postgres://user:password@host:5432/name."
        )
    if config["ENGINE"] not in DATABASE_ENGINES:
        raise SettingError(
            f"{name}={raw!r}: msp-ops runs on PostgreSQL (or SQLite, the embedded default);"
            " use postgres://user:password@host:5432/name."
        )
    return config


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
