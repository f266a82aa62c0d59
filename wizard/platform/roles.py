"""The target's roles, read from its catalog and created where the scratch cluster lacks them.

Names, attributes, memberships and role settings are mirrored; passwords never are (they are
not read). A role the scratch cluster already has is left as it is, except for memberships the
target grants it, which are added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

ROLES_SQL = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit,
       coalesce((SELECT array_agg(s ORDER BY s) FROM pg_db_role_setting d, unnest(d.setconfig) s
                 WHERE d.setrole = r.oid AND d.setdatabase = 0), '{}') AS settings
FROM pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY r.rolname
"""

MEMBERS_SQL = """
SELECT g.rolname AS role, m.rolname AS member, a.admin_option
FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
WHERE m.rolname !~ '^pg_'
ORDER BY 1, 2
"""

_FLAGS = (
    ("rolsuper", "SUPERUSER", "NOSUPERUSER"),
    ("rolinherit", "INHERIT", "NOINHERIT"),
    ("rolcreaterole", "CREATEROLE", "NOCREATEROLE"),
    ("rolcreatedb", "CREATEDB", "NOCREATEDB"),
    ("rolcanlogin", "LOGIN", "NOLOGIN"),
    ("rolreplication", "REPLICATION", "NOREPLICATION"),
    ("rolbypassrls", "BYPASSRLS", "NOBYPASSRLS"),
)


@dataclass(frozen=True)
class Role:
    """One role as the target has it (never its password)."""

    name: str
    attributes: dict[str, Any]
    settings: tuple[str, ...] = ()

    def create_sql(self) -> sql.Composed:
        words = [on if self.attributes.get(key) else off for key, on, off in _FLAGS]
        limit = self.attributes.get("rolconnlimit", -1)
        if limit is not None and limit >= 0:
            words.append(f"CONNECTION LIMIT {int(limit)}")
        return sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(self.name), sql.SQL(" ".join(words)))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "attributes": self.attributes, "settings": list(self.settings)}


@dataclass(frozen=True)
class RoleSet:
    """The target's roles and memberships."""

    roles: tuple[Role, ...]
    memberships: tuple[tuple[str, str, bool], ...] = field(default=())  # (role, member, admin option)

    def to_dict(self) -> dict[str, Any]:
        return {"roles": [r.to_dict() for r in self.roles], "memberships": [list(m) for m in self.memberships]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoleSet:
        roles = tuple(Role(r["name"], r["attributes"], tuple(r.get("settings") or ())) for r in data["roles"])
        return cls(roles, tuple((m[0], m[1], bool(m[2])) for m in data.get("memberships") or ()))


def read_roles(conn: psycopg.Connection) -> RoleSet:
    """Every non-system role of the target's cluster, with attributes, settings and memberships."""
    roles = []
    with conn.cursor() as cur:
        cur.execute(ROLES_SQL)
        names = [d.name for d in cur.description or ()]
        for row in cur.fetchall():
            data = dict(zip(names, row, strict=True))
            name, settings = data.pop("rolname"), tuple(data.pop("settings") or ())
            roles.append(Role(name, data, settings))
        cur.execute(MEMBERS_SQL)
        members = tuple((r[0], r[1], bool(r[2])) for r in cur.fetchall())
    return RoleSet(tuple(roles), members)


def create_missing(conn: psycopg.Connection, wanted: RoleSet) -> list[str]:
    """Create the roles the scratch cluster lacks and add the target's memberships; return the created names.

    Runs on the shadow server as its superuser. Settings are applied to the roles created here
    only: the scratch cluster's own roles (the superuser the tool connects as) keep theirs.
    """
    existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
    created = []
    for role in wanted.roles:
        if role.name in existing:
            continue
        try:
            conn.execute(role.create_sql())
        except psycopg.errors.DuplicateObject:  # another process created it meanwhile
            continue
        created.append(role.name)
        for setting in role.settings:
            apply_setting(conn, sql.SQL("ROLE {}").format(sql.Identifier(role.name)), setting)
    have = {(r[0], r[1]) for r in conn.execute(MEMBERS_SQL).fetchall()}
    known = existing | set(created)
    for group, member, admin in wanted.memberships:
        if (group, member) in have or group not in known or member not in known or group == member:
            continue
        grant = sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(member))
        if admin:
            grant = sql.SQL("{} WITH ADMIN OPTION").format(grant)
        try:
            conn.execute(grant)
        except psycopg.errors.InvalidGrantOperation:  # a circular membership the target allows in another order
            continue
    return created


#: Settings that would stop sessions from starting where the library is missing: never mirrored.
UNSAFE_SETTINGS = ("session_preload_libraries", "local_preload_libraries", "shared_preload_libraries")


def apply_setting(conn: psycopg.Connection, who: sql.Composable, setting: str) -> bool:
    """``ALTER <who> SET`` one ``name=value`` as the target stores it (list values keep their quoting).

    The value goes through ``set_config`` and ``SET ... FROM CURRENT``, never into SQL text. A setting
    this server rejects (an unknown extension's) is skipped; returns whether it was applied.
    """
    key, _, value = setting.partition("=")
    if key in UNSAFE_SETTINGS:
        return False
    try:
        with conn.transaction():
            conn.execute("SELECT set_config(%s, %s, true)", (key, value))
            conn.execute(sql.SQL("ALTER {} SET {} FROM CURRENT").format(who, sql.Identifier(key)))
    except psycopg.Error:
        return False
    return True
