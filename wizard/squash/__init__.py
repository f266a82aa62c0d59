"""Phase 2: the consolidated baseline, generated from the target and proved on a scratch database.

* :mod:`.dump`: pg_dump of the user schemas, cleaned into SQL the Supabase CLI can run;
* :mod:`.managed`: in-scope objects outside the user schemas (triggers on ``auth.users``,
  policies on ``storage.objects``, publication membership, extensions);
* :mod:`.data`: rows carried as idempotent inserts (from the target with ``--include-data``);
* :mod:`.environment`: what a fresh environment holds (rows, jobs, queues, secret names, extensions);
* :mod:`.carry`: the rows and platform state the old history made, read from its fresh environment;
* :mod:`.secrets`: key-like values replaced by placeholders before anything is written;
* :mod:`.baseline`: the file, its provenance header and version, written idempotently;
* :mod:`.prove`: apply to a fresh database, 100 % parity per kind, provisioning times;
* :mod:`.fresh`: the second proof, a fresh environment from the new folder equal to one from the history;
* :mod:`.phase`: all of it, as ``consolidate squash`` runs it.

The engine takes plain callbacks for progress and a ``threading.Event`` for cancellation.
"""

from __future__ import annotations

from wizard.squash.baseline import Baseline, generate, is_baseline, next_version
from wizard.squash.phase import SquashOutcome, squash
from wizard.squash.prove import Proof, Provisioning

__all__ = [
    "Baseline",
    "Proof",
    "Provisioning",
    "SquashOutcome",
    "generate",
    "is_baseline",
    "next_version",
    "squash",
]
