"""Connection strings: resolve them, redact them, and keep passwords out of sight."""

from __future__ import annotations

import os
import re

from psycopg import conninfo

from wizard.errors import ConnectionFailed

_SECRET_KEYS = {"password", "sslpassword"}
_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@)")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


_QUOTED = re.compile(r'"([^"]*)"')


def _hide_quoted(message: str) -> str:
    """libpq quotes pieces of a malformed connection string in its errors (even of the password):
    keep only quoted keywords and punctuation."""
    keywords = {d.keyword.decode() for d in conninfo.pq.Conninfo.get_defaults()}

    def keep(match: re.Match[str]) -> str:
        text = match.group(1)
        return match.group(0) if text in keywords or not any(c.isalnum() for c in text) else '"…"'

    return _QUOTED.sub(keep, message)


def parse(dsn: str) -> dict[str, str]:
    """Parse a libpq connection string or URI into its parameters.

    Raises:
        ConnectionFailed: the string is not a valid connection string.
    """
    try:
        return {k: str(v) for k, v in conninfo.conninfo_to_dict(dsn).items() if v is not None}
    except Exception as exc:  # psycopg.ProgrammingError, with the DSN possibly in it
        raise ConnectionFailed(
            f"invalid connection string: {_hide_quoted(redact_text(' '.join(str(exc).split())))}",
            "use postgresql://user@host:port/dbname or key=value pairs",
        ) from None


def without_password(dsn: str) -> tuple[str, str | None]:
    """Split a DSN into a password-free conninfo string and the password (if any)."""
    params = parse(dsn)
    password = params.pop("password", None)
    params.pop("sslpassword", None)
    return conninfo.make_conninfo(**params), password


def describe(dsn: str) -> str:
    """A short, password-free label: ``user@host:port/dbname`` (or ``service=name``)."""
    try:
        params = parse(dsn)
    except ConnectionFailed:
        return "<invalid connection string>"
    if "service" in params and "host" not in params:
        return f"service={params['service']}"
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    db = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return f"{user + '@' if user else ''}{host}:{port}/{db}"


def redact_text(text: str) -> str:
    """Remove anything that looks like a password from free text (error messages, logs)."""
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    return _KV_PASSWORD.sub(r"\1***", text)
