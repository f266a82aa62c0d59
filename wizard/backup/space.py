"""Room for a verification restore: the target's size against the free space of the shadow server's disk.

A verification restores the whole backup into a scratch database, which takes about as much
space as the target had (``pg_database_size`` at backup time, indexes included). Checked before
anything starts, so a large target never fills the disk halfway through a restore.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.backup.errors import BackupError
from wizard.backup.evidence import BackupRecord
from wizard.backup.files import human_bytes
from wizard.platform.shadow import Shadow
from wizard.project.config import CONFIG_NAME, Config

MB = 1024 * 1024
SHADOW_FIX = (
    f'point verification at a server with more room: in {CONFIG_NAME} set [shadow] kind = "dsn" with '
    'dsn_env = "SHADOW_DATABASE_URL" (a server you may create databases on), or free space on that disk'
)


@dataclass(frozen=True)
class RestoreSpace:
    """What the space check measured (``free`` is None when the shadow's disk is not on this machine)."""

    data_directory: str | None
    free: int | None
    needed: int

    def to_dict(self) -> dict[str, Any]:
        return {"data_directory": self.data_directory, "free_bytes": self.free, "needed_bytes": self.needed}


def check_restore_space(config: Config, shadow: Shadow, record: BackupRecord) -> RestoreSpace:
    """Refuse, in one line and before starting, a restore the shadow server's disk cannot hold.

    Needed: the target's size when the backup was taken plus ``[backup] verify_reserve_mb``.

    Raises:
        BackupError: the free space where the shadow server keeps its data is smaller (figures and fix named).
    """
    needed = int(record.database_size + config.backup.verify_reserve_mb * MB)
    data: Path | None = shadow.data_directory()
    if data is None:
        return RestoreSpace(None, None, needed)
    free = shutil.disk_usage(data).free
    if free < needed:
        raise BackupError(
            f"the verification restore will not fit: the target was {human_bytes(record.database_size)} when "
            f"backed up, plus the {human_bytes(config.backup.verify_reserve_mb * MB)} reserve "
            f"([backup] verify_reserve_mb), but only {human_bytes(free)} is free in {data} where the shadow "
            "server keeps its data; nothing was started",
            SHADOW_FIX,
        )
    return RestoreSpace(str(data), free, needed)
