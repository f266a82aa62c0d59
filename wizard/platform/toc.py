"""A custom-format dump's table of contents (``pg_restore --list``), read and filtered.

Each line is ``ID; CATALOG-OID OID DESC SCHEMA TAG OWNER``; a description may hold spaces
(``FK CONSTRAINT``, ``DEFAULT ACL``), so the known ones are matched longest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: pg_dump's multi-word entry descriptions, longest first.
_DESCRIPTIONS = sorted(
    (
        "ACCESS METHOD",
        "CHECK CONSTRAINT",
        "PROCEDURAL LANGUAGE",
        "SECURITY LABEL",
        "SHELL TYPE",
        "SUBSCRIPTION TABLE",
        "DATABASE PROPERTIES",
        "DEFAULT ACL",
        "EVENT TRIGGER",
        "FK CONSTRAINT",
        "FOREIGN DATA WRAPPER",
        "FOREIGN SERVER",
        "FOREIGN TABLE",
        "INDEX ATTACH",
        "LARGE OBJECT",
        "MATERIALIZED VIEW DATA",
        "MATERIALIZED VIEW",
        "OPERATOR CLASS",
        "OPERATOR FAMILY",
        "PUBLICATION TABLES IN SCHEMA",
        "PUBLICATION TABLE",
        "ROW SECURITY",
        "SEQUENCE OWNED BY",
        "SEQUENCE SET",
        "STATISTICS DATA",
        "TABLE ATTACH",
        "TABLE DATA",
        "TEXT SEARCH CONFIGURATION",
        "TEXT SEARCH DICTIONARY",
        "TEXT SEARCH PARSER",
        "TEXT SEARCH TEMPLATE",
        "USER MAPPING",
    ),
    key=len,
    reverse=True,
)
_LINE = re.compile(r"^(\d+); (\d+) (\d+) (.*)$")


@dataclass(frozen=True)
class Entry:
    """One TOC entry: its line as listed, and what it is."""

    line: str
    desc: str
    schema: str
    rest: str  # the tag and the owner: "users on_auth_user_created postgres"

    def tag_startswith(self, prefix: str) -> bool:
        return self.rest == prefix or self.rest.startswith(prefix + " ")


def parse(listing: str) -> list[Entry]:
    """The entries of a ``pg_restore --list`` output (comments and blank lines skipped)."""
    entries = []
    for line in listing.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        text = m.group(4)
        desc = next((d for d in _DESCRIPTIONS if text.startswith(d + " ")), text.split(" ", 1)[0])
        schema, _, rest = text[len(desc) + 1 :].partition(" ")
        entries.append(Entry(line, desc, schema, rest))
    return entries


def listing(entries: list[Entry]) -> str:
    """A list file for ``pg_restore --use-list``."""
    return "".join(e.line + "\n" for e in entries)
