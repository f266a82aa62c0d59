"""Directory-format backups (``pg_dump -Fd -j``): taken, verified with a parallel restore, checked file by file."""

from __future__ import annotations

import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_sql
from tests.test_backup import SCHEMA
from wizard.backup import dumpdir
from wizard.backup.evidence import TAKEN, VERIFICATION_FAILED, VERIFIED, BackupRecord
from wizard.backup.gate import evaluate
from wizard.cli import main
from wizard.db.connect import identity, open_session
from wizard.errors import ConfigError
from wizard.platform.shadow import Shadow
from wizard.project import config as config_mod
from wizard.state.journal import Journal


@dataclass
class DirBackup:
    root: Path
    dsn: str
    journal: Journal
    record: BackupRecord

    @property
    def path(self) -> Path:
        return self.record.file(self.root)

    def verify(self) -> int:
        return main(["verify-backup", "--project", str(self.root)])

    def gate_reason(self) -> str:
        cfg = config_mod.load(self.root)
        with open_session(self.dsn) as conn:
            result = evaluate(cfg, cfg.target("staging"), conn, identity(conn))
        return "" if result.passed else result.reason


def _with_backup_table(root: Path, table: str) -> None:
    """Set (or, with ``table`` empty, remove) the ``[backup]`` table of the project's consolidate.toml."""
    toml = root / "consolidate.toml"
    rest = toml.read_text().split("\n[backup]\n")[0]
    toml.write_text(rest + (f"\n[backup]\n{table}\n" if table else ""))


@pytest.fixture
def dir_backup(fresh_db: str, make_project) -> DirBackup:
    """A directory backup chosen by the size threshold (0 MB: every target is large)."""
    run_sql(fresh_db, SCHEMA)
    root = make_project(fresh_db)
    _with_backup_table(root, "directory_format_above_mb = 0")
    assert main(["backup", "--project", str(root), "--jobs", "2"]) == 0
    journal = Journal.for_target(root / ".consolidate", "staging")
    return DirBackup(root, fresh_db, journal, BackupRecord.from_event(journal.last(TAKEN)))


def test_directory_backup_verifies_with_a_parallel_restore(dir_backup: DirBackup, shadow: Shadow) -> None:
    record, path = dir_backup.record, dir_backup.path
    assert record.format == "directory" and record.jobs == 2
    assert path.is_dir() and path.name.endswith(".dumpdir")
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert record.files is not None and "toc.dat" in record.files and len(record.files) > 2
    for name, entry in record.files.items():
        assert (path / name).stat().st_size == entry["size"]
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600
    assert record.size == sum(e["size"] for e in record.files.values())
    assert record.sha256 == dumpdir.set_checksum(dumpdir.from_record(record.files))
    # the manifest is what sha256sum -c reads, and the set checksum is its hash
    check = subprocess.run(["sha256sum", "--check", "--quiet", dumpdir.MANIFEST], cwd=path, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert [p.name for p in path.parent.iterdir() if p.name not in (".lock", path.name)] == []
    assert record.row_counts["public.child"] == 400 and record.large_objects == 1

    assert dir_backup.verify() == 0
    outcome = dir_backup.journal.last(VERIFIED)
    steps = {s["step"]: s for s in outcome["steps"]}
    assert list(steps) == ["checksum", "list", "restore", "match"]
    assert steps["list"]["format"] == "DIRECTORY"
    assert steps["checksum"]["files"] == len(record.files)
    assert steps["restore"]["jobs"] >= 2 and steps["restore"]["platform"]
    # the room was measured where the [shadow] server (the session's) keeps its data
    assert steps["restore"]["space"]["data_directory"] == str(shadow.data_directory())
    assert steps["restore"]["space"]["free_bytes"] >= steps["restore"]["space"]["needed_bytes"]
    assert steps["match"]["rows"] == record.total_rows
    assert dir_backup.gate_reason() == ""


def test_the_flag_forces_either_format(fresh_db: str, make_project) -> None:
    root = make_project(fresh_db)
    _with_backup_table(root, "directory_format_above_mb = 0")
    journal = Journal.for_target(root / ".consolidate", "staging")
    assert main(["backup", "--project", str(root), "--format", "custom"]) == 0
    assert journal.last(TAKEN)["format"] == "custom" and journal.last(TAKEN)["path"].endswith(".dump")
    _with_backup_table(root, "")
    assert main(["backup", "--project", str(root)]) == 0  # a tiny target under the default 1024 MB
    assert journal.last(TAKEN)["format"] == "custom"
    assert main(["backup", "--project", str(root), "--format", "directory"]) == 0
    assert journal.last(TAKEN)["format"] == "directory"
    assert main(["verify-backup", "--project", str(root)]) == 0


def _tamper_changed(path: Path) -> str:
    data_file = next(p for p in sorted(path.iterdir()) if p.name.endswith(".dat.gz") and p.stat().st_size > 40)
    data = bytearray(data_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    data_file.write_bytes(data)
    return data_file.name


def _tamper_missing(path: Path) -> str:
    data_file = next(p for p in sorted(path.iterdir()) if p.name.endswith(".dat.gz"))
    data_file.unlink()
    return data_file.name


def _tamper_extra(path: Path) -> str:
    (path / "9999.dat.gz").write_bytes(b"not from pg_dump")
    return "9999.dat.gz"


def _tamper_toc(path: Path) -> str:
    toc = path / "toc.dat"
    with toc.open("r+b") as handle:
        handle.truncate(toc.stat().st_size - 10)
    return "toc.dat"


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        (_tamper_changed, "modified or corrupted"),
        (_tamper_missing, "is missing"),
        (_tamper_extra, "extra file"),
        (_tamper_toc, "not the"),
    ],
)
def test_a_tampered_directory_fails_naming_the_file(dir_backup: DirBackup, capsys, tamper, words: str) -> None:
    assert dir_backup.verify() == 0
    name = tamper(dir_backup.path)
    reason = dir_backup.gate_reason()
    assert name in reason and words in reason
    capsys.readouterr()
    assert dir_backup.verify() == 1
    failed = dir_backup.journal.last(VERIFICATION_FAILED)
    assert failed["failed_step"] == "checksum"
    assert name in failed["reason"] and words in failed["reason"]
    assert len(failed["steps"]) == 1  # pg_restore never read the tampered directory
    assert name in capsys.readouterr().out
    assert "failed verification" in dir_backup.gate_reason()  # the backup no longer counts at all


def test_verification_refuses_before_starting_when_the_restore_cannot_fit(
    dir_backup: DirBackup, shadow: Shadow, capsys
) -> None:
    data = shadow.data_directory()
    assert data is not None, "the embedded shadow keeps its data on this machine"
    # the reserve alone is more than the free space there: the restore cannot fit
    free_mb = shutil.disk_usage(data).free // 2**20
    _with_backup_table(dir_backup.root, f"verify_reserve_mb = {free_mb + 1}")
    capsys.readouterr()
    assert dir_backup.verify() == 2
    err = capsys.readouterr().err
    assert "will not fit" in err and str(data) in err and "nothing was started" in err
    assert "[shadow]" in err
    assert dir_backup.journal.last(VERIFIED) is None and dir_backup.journal.last(VERIFICATION_FAILED) is None
    with open_session(shadow.admin_dsn) as conn:
        scratch = conn.execute("select count(*) from pg_database where datname like 'cw_scratch_verify%'").fetchone()
    assert scratch[0] == 0


def test_backup_table_rejects_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"backup\.verify_reserve_mb must be a number"):
        config_mod.from_dict(tmp_path, {"backup": {"verify_reserve_mb": "lots"}})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in \[backup\]: jobz"):
        config_mod.from_dict(tmp_path, {"backup": {"jobz": 2}})
    cfg = config_mod.from_dict(tmp_path, {"backup": {"directory_format_above_mb": 10}})
    assert cfg.backup.directory_format_above_mb == 10 and cfg.backup.verify_reserve_mb == 256


def test_prune_removes_an_old_directory_backup_whole(dir_backup: DirBackup) -> None:
    assert dir_backup.verify() == 0
    assert main(["backup", "--project", str(dir_backup.root), "--jobs", "2"]) == 0  # newer, not verified
    assert main(["backup", "--project", str(dir_backup.root), "--jobs", "2"]) == 0
    older = dir_backup.path
    backups = dir_backup.path.parent
    assert len([p for p in backups.iterdir() if p.name.endswith(".dumpdir")]) == 3
    assert main(["prune-backups", "--project", str(dir_backup.root), "--keep", "1"]) == 0
    left = sorted(p.name for p in backups.iterdir() if p.name != ".lock")
    # the verified one stays (the gate relies on it), the newest stays (keep 1), the middle one is gone whole
    assert older.name in left and len(left) == 2 and not any(n.startswith(".") for n in left)
    pruned = dir_backup.journal.last("backup.pruned")
    assert pruned["path"].endswith(".dumpdir") and pruned["path"] != dir_backup.record.path
    assert dir_backup.gate_reason() == ""
