"""Server ledger locations: recognising them, and showing them without their secrets.

A location is a server's when it is a URL (``postgresql://…``, ``postgres:…``) or a libpq
``key=value`` connection string (``host=db dbname=ledgers``); anything else is a SQLite file.
Kept apart from the PostgreSQL backend so that the SQLite path never imports psycopg.
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["is_url", "redacted", "scrubbed", "secrets"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONNINFO = re.compile(
    r"^\s*(host|hostaddr|port|dbname|user|password|service|sslmode|options|connect_timeout|"
    r"application_name|passfile|target_session_attrs)\s*=",
    re.IGNORECASE,
)
_CONNINFO_PASSWORD = re.compile(r"((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)", re.IGNORECASE)
_SECRET_KEYS = ("password", "sslpassword")


def is_url(path: str) -> bool:
    """Whether ``path`` names a server ledger (a URL or a connection string), not a SQLite file."""
    text = str(path)
    return "://" in text or bool(_CONNINFO.match(text)) or text.lower().startswith(("postgresql:", "postgres:"))


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """``(before, password, after)`` when the URL's user part carries a password.

    The user part runs to the last ``@`` (over-redacting beats leaking a password holding ``@``,
    ``/``, ``?`` or ``#``), and the password from its first ``:``.
    """
    match = _SCHEME.match(url)
    if match is None:
        return None
    start = match.end()
    while url.startswith("/", start):
        start += 1
    at = url.rfind("@", start)
    colon = url.find(":", start, at) if at != -1 else -1
    if colon == -1:
        return None
    return url[: colon + 1], url[colon + 1 : at], url[at:]


def _query_secrets(url: str) -> list[tuple[int, int]]:
    """Spans of the values of ``password=`` parameters, their names percent-decoded first."""
    spans = []
    query = url.find("?")
    if query == -1:
        return spans
    position = query + 1
    for part in url[query + 1 :].split("&"):
        name, equals, _ = part.partition("=")
        if equals and urllib.parse.unquote(name).strip().lower() in _SECRET_KEYS:
            spans.append((position + len(name) + 1, position + len(part)))
        position += len(part) + 1
    return spans


def redacted(location: str) -> str:
    """``location`` with every password (user part, ``password=`` parameter, connection-string
    ``password``) shown as ``***``: fit for messages and logs."""
    if not is_url(location):
        return location
    if _CONNINFO.match(location):
        return _CONNINFO_PASSWORD.sub(r"\1***", location)
    text = location
    for start, end in reversed(_query_secrets(text)):
        text = text[:start] + "***" + text[end:]
    parts = _split_userinfo(text)
    if parts is not None:
        text = parts[0] + "***" + parts[2]
    return text


def secrets(location: str) -> list[str]:
    """The passwords ``location`` carries, raw and decoded, longest first: to scrub from messages."""
    found: list[str] = []
    if _CONNINFO.match(location):
        found += [value.strip("'") for _, value in _CONNINFO_PASSWORD.findall(location)]
    else:
        found += [location[start:end] for start, end in _query_secrets(location)]
        parts = _split_userinfo(location)
        if parts is not None:
            found.append(parts[1])
    decoded = [urllib.parse.unquote(s) for s in found]
    return sorted({s for s in found + decoded if s}, key=len, reverse=True)


def scrubbed(text: str, location: str) -> str:
    """``text`` (a driver's message) on one line, with ``location`` redacted and no password in it."""
    text = text.replace(location, redacted(location))
    for secret in secrets(location):
        text = text.replace(secret, "***")
    return " ".join(text.split())
