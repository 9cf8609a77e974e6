"""Ledger locations given as URLs: recognising them, and showing them without their secrets.

Kept apart from the PostgreSQL backend so that the SQLite path never imports psycopg.
"""

from __future__ import annotations

import re
import urllib.parse

_USERINFO_PASSWORD = re.compile(r"(://[^:/@?#]*:)[^@/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)


def is_url(path: str) -> bool:
    """Whether ``path`` names a server ledger by URL rather than a SQLite file."""
    return "://" in str(path)


def redacted(url: str) -> str:
    """``url`` with every password (in the user part or as a ``password=`` parameter) as ``***``."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1***@", url))


def secrets(url: str) -> list[str]:
    """The passwords ``url`` carries, raw and decoded, longest first: to scrub from server messages."""
    found: list[str] = []
    match = re.search(r"://[^:/@?#]*:([^@/?#]*)@", url)
    if match and match[1]:
        found.append(match[1])
    found += [m for m in re.findall(r"[?&](?:ssl)?password=([^&#]*)", url, flags=re.IGNORECASE) if m]
    decoded = [urllib.parse.unquote(s) for s in found]
    return sorted({s for s in found + decoded if s}, key=len, reverse=True)


def scrubbed(text: str, url: str) -> str:
    """``text`` (a driver's message) on one line, with ``url`` shown redacted and no password in it."""
    text = text.replace(url, redacted(url))
    for secret in secrets(url):
        text = text.replace(secret, "***")
    return " ".join(text.split())
