"""Database access below every phase: connection strings, sessions and SQL text.

* :mod:`.dsn`: resolve, describe and redact connection strings (passwords never shown);
* :mod:`.connect`: open sessions (read-only for targets) and read a database's identity;
* :mod:`.sqltext`: identifier quoting and literals.
"""

from wizard.db.connect import Identity, identity, open_session
from wizard.db.dsn import describe, redact_text

__all__ = ["Identity", "describe", "identity", "open_session", "redact_text"]
