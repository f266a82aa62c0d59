"""The migration history in both of its places, and how the Supabase CLI applies it.

* :mod:`.files`: the local ``supabase/migrations`` files, named, ordered and split as the CLI does;
* :mod:`.remote`: the target's ``supabase_migrations.schema_migrations`` table, read-only;
* :mod:`.replay`: apply the files, in version order, to a scratch database.
"""

from wizard.history.files import MigrationFile, MigrationSet, discover
from wizard.history.remote import HISTORY_SCHEMA, HISTORY_TABLE, History
from wizard.history.replay import ReplayResult

__all__ = [
    "HISTORY_SCHEMA",
    "HISTORY_TABLE",
    "History",
    "MigrationFile",
    "MigrationSet",
    "ReplayResult",
    "discover",
]
