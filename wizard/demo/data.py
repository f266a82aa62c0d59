"""Deterministic seed rows for the demo's EAV Orchestrator databases.

Rows are built in Python (names and UUIDs derived from fixed seeds, timestamps from a
fixed base), so two prepared demos hold identical data. The 467 rows in the seven
``public`` tables match the seed plan; the 12 ``auth.users`` rows are extra, and each of
them makes the ``on_auth_user_created`` trigger write one ``user_profiles`` row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from wizard.db.connect import scalar
from wizard.errors import WizardError

#: Rows per public table once the seed is in (``user_profiles`` come from the auth trigger).
EXPECTED_ROWS: dict[str, int] = {
    "public.user_profiles": 12,
    "public.user_clients": 8,
    "public.projects": 25,
    "public.videos": 80,
    "public.scripts": 70,
    "public.script_components": 270,
    "public.sync_metadata": 2,
}
TOTAL_ROWS = sum(EXPECTED_ROWS.values())  # 467, the seed's figure

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.invalid/eav-orchestrator-demo")
_BASE = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
_INSTANCE = uuid.UUID(int=0)

_CLIENTS = ("harbour-homes", "northgate-care", "greenfield-estates", "riverside-living")
_PEOPLE = (
    ("Amira Okafor", "admin"),
    ("Tom Lindqvist", "admin"),
    ("Priya Raman", "employee"),
    ("Daniel Hughes", "employee"),
    ("Sofia Marquez", "employee"),
    ("Ewan Clarke", "employee"),
    ("Hannah Becker", "client"),
    ("Marcus Webb", "client"),
    ("Leila Haddad", "client"),
    ("Oliver Grant", "client"),
    ("Chloe Nakamura", "client"),
    ("Ravi Patel", "client"),
)
# Client users (by position among the clients) and the client filters they may see.
_CLIENT_ACCESS = (
    (0, "harbour-homes"),
    (0, "northgate-care"),
    (1, "greenfield-estates"),
    (2, "riverside-living"),
    (3, "northgate-care"),
    (3, "riverside-living"),
    (4, "harbour-homes"),
    (5, "greenfield-estates"),
)
_DEVELOPMENTS = (
    "Quayside Apartments",
    "Elm Court",
    "Millbrook Village",
    "Station Yard",
    "Kingfisher Rise",
)
_TOPICS = (
    "Welcome to your new home",
    "Heating and hot water controls",
    "Oven and hob guide",
    "Washer-dryer basics",
    "Ventilation and condensation",
    "Smoke alarms and safety",
    "Meter readings",
    "Bin stores and recycling",
)
_SENTENCES = (
    "Welcome to your new home.",
    "This short guide shows you how everything works.",
    "Press and hold the power button for three seconds.",
    "The display shows the current temperature.",
    "Turn the dial clockwise to raise the setting.",
    "If the light flashes red, call the maintenance team.",
    "Keep the vents clear so that air can circulate.",
    "You will find the manual in the kitchen drawer.",
    "Check the filter once a month and rinse it under the tap.",
    "Thank you for watching, and enjoy your new home.",
)
_SCRIPT_STATUSES = ("draft", "in_review", "rework", "approved", "reuse")
_STREAM_STATUSES = ("not_started", "ready", "in_edit", "delivered")


def _id(kind: str, number: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{kind}-{number}")


def _at(hours: float) -> datetime:
    return _BASE + timedelta(hours=hours)


def _paragraph(seed: int) -> str:
    count = 2 + seed % 3
    return " ".join(_SENTENCES[(seed + k * 3) % len(_SENTENCES)] for k in range(count))


@dataclass
class SeedRows:
    """Every row the seed inserts, as column-name dictionaries per table."""

    auth_users: list[dict[str, Any]] = field(default_factory=list)
    user_clients: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    scripts: list[dict[str, Any]] = field(default_factory=list)
    script_components: list[dict[str, Any]] = field(default_factory=list)
    sync_metadata: list[dict[str, Any]] = field(default_factory=list)


def rows() -> SeedRows:
    """Build the seed rows (the same every time)."""
    seed = SeedRows()
    for n, (full_name, role) in enumerate(_PEOPLE):
        email = full_name.lower().replace(" ", ".") + ("@eav.example" if role != "client" else "@client.example")
        seed.auth_users.append(
            {
                "instance_id": _INSTANCE,
                "id": _id("user", n),
                "aud": "authenticated",
                "role": "authenticated",
                "email": email,
                "email_confirmed_at": _at(n),
                "raw_app_meta_data": {"provider": "email", "providers": ["email"]},
                "raw_user_meta_data": {"full_name": full_name, "role": role},
                "created_at": _at(n),
                "updated_at": _at(n),
            }
        )
    clients = [_id("user", n) for n, (_, role) in enumerate(_PEOPLE) if role == "client"]
    for n, (client, client_filter) in enumerate(_CLIENT_ACCESS):
        seed.user_clients.append(
            {
                "id": _id("user-client", n),
                "user_id": clients[client],
                "client_filter": client_filter,
                "granted_by": _id("user", 0),
                "granted_at": _at(24 + n),
            }
        )
    for p in range(25):
        client_name = _CLIENTS[p % len(_CLIENTS)]
        development = _DEVELOPMENTS[p % len(_DEVELOPMENTS)]
        seed.projects.append(
            {
                "id": _id("project", p),
                "title": f"{development} phase {p // len(_DEVELOPMENTS) + 1}",
                "eav_code": f"EAV{p + 1:03d}",
                "client_filter": client_name,
                "due_date": date(2025, 4, 1) + timedelta(days=7 * p),
                "created_at": _at(48 + 5 * p),
                "updated_at": _at(48 + 5 * p),
            }
        )
    # 80 videos: every project has 3, the first five have a fourth.
    video = 0
    for p in range(25):
        for k in range(4 if p < 5 else 3):
            seed.videos.append(
                {
                    "id": _id("video", video),
                    "project_id": _id("project", p),
                    "title": _TOPICS[(p + k) % len(_TOPICS)],
                    "main_stream_status": _STREAM_STATUSES[video % len(_STREAM_STATUSES)],
                    "vo_stream_status": _STREAM_STATUSES[(video // 2) % len(_STREAM_STATUSES)],
                    "production_type": "new" if video % 5 else "reuse",
                    "created_at": _at(200 + 2 * video),
                }
            )
            video += 1
    # 70 scripts: every video but each eighth; 270 components: 4 per script, 3 for each seventh.
    for v, vid in enumerate(seed.videos):
        if v % 8 == 7:
            continue
        s = len(seed.scripts)
        script_id = _id("script", s)
        components = [_paragraph(s * 5 + c) for c in range(3 if s % 7 == 0 else 4)]
        for c, text in enumerate(components, start=1):
            seed.script_components.append(
                {
                    "id": _id("component", len(seed.script_components)),
                    "script_id": script_id,
                    "component_number": c,
                    "content": text,
                    "word_count": len(text.split()),
                    "created_at": _at(400 + 3 * s),
                }
            )
        seed.scripts.append(
            {
                "id": script_id,
                "video_id": vid["id"],
                "plain_text": "\n\n".join(components),
                "component_count": len(components),
                "status": _SCRIPT_STATUSES[s % len(_SCRIPT_STATUSES)],
                "created_at": _at(400 + 3 * s),
                "updated_at": _at(401 + 3 * s),
            }
        )
    for n, collection in enumerate(("projects", "videos")):
        seed.sync_metadata.append(
            {
                "id": f"smartsuite_{collection}",
                "status": "idle",
                "last_sync_started_at": _at(2000 + n),
                "last_sync_completed_at": _at(2000.05 + n),
                "sync_count": 212 - 7 * n,
                "last_error": None,
                "updated_at": _at(2000.05 + n),
            }
        )
    return seed


def _insert(cur: psycopg.Cursor, table: str, records: list[dict[str, Any]]) -> None:
    columns = list(records[0])
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(*table.split(".")),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    cur.executemany(statement, [[Jsonb(r[c]) if isinstance(r[c], dict) else r[c] for c in columns] for r in records])


def insert(conn: psycopg.Connection) -> dict[str, int]:
    """Insert the seed into a demo database (in one transaction); return the row count per public table.

    Auth users go first, so that foreign keys to ``auth.users`` and ``user_profiles`` hold.

    Raises:
        WizardError: the counts differ from :data:`EXPECTED_ROWS` (nothing is kept then).
    """
    seed = rows()
    with conn.transaction(), conn.cursor() as cur:
        _insert(cur, "auth.users", seed.auth_users)
        for table in ("user_clients", "projects", "videos", "scripts", "script_components", "sync_metadata"):
            _insert(cur, f"public.{table}", getattr(seed, table))
        counts = {}
        for table in EXPECTED_ROWS:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*table.split(".")))
            counts[table] = scalar(cur.execute(query))
        if counts != EXPECTED_ROWS:
            raise WizardError(
                f"the demo seed produced {counts}, expected {EXPECTED_ROWS}",
                "this is a bug in the demo data (wizard/demo/data.py); please report it",
            )
    return counts
