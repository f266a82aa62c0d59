"""consolidate.toml validation: every bad key is named, secrets are refused."""

from __future__ import annotations

import pytest

from wizard.errors import ConfigError
from wizard.project import config


def load(tmp_path, text):
    (tmp_path / "consolidate.toml").write_text(text)
    return config.load(tmp_path)


def test_defaults_and_targets(tmp_path):
    cfg = load(tmp_path, '[targets.staging]\ndsn_env = "STAGING_URL"\nrole = "staging"\n')
    assert cfg.migrations_dir == tmp_path / "supabase" / "migrations"
    assert cfg.archive_dir == tmp_path / "supabase" / "migrations_archive"
    assert cfg.shadow is None
    assert cfg.target(None).source.dsn_env == "STAGING_URL"


def test_missing_file_names_init(tmp_path):
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert "consolidate init" in info.value.fix


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[targets.prod]\ndsn_env = "X"\nrole = "prod"\n', "targets.prod.role"),
        ('[targets.prod]\nrole = "production"\n', "targets.prod needs exactly one of"),
        ('[targets.prod]\nrole = "production"\ndsn_env = "X"\nservice = "y"\n', "targets.prod needs exactly one"),
        ('[targets.prod]\nrole = "production"\ndsn = "postgresql://u:s3cr3tpw@h/db"\n', "contains a password"),
        ('[targets.prod]\nrole = "production"\ndsn_env = "X"\ncolour = 1\n', "unknown key(s) in targets.prod"),
        ("[shadow]\nkind = 'docker'\n", "shadow.kind"),
        ("[project]\nmigrations_dir = 3\n", "project.migrations_dir"),
        ("[stuff]\n", "unknown key(s)"),
        ('[targets.backups]\nrole = "staging"\ndsn_env = "X"\n', "target name 'backups' is not allowed"),
        ('[targets."../x"]\nrole = "staging"\ndsn_env = "X"\n', "is not allowed"),
        ("targets = [", "not valid TOML"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, named):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert named in info.value.message
    assert "s3cr3tpw" not in str(info.value)


def test_unset_env_var_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_URL", raising=False)
    cfg = load(tmp_path, '[targets.s]\ndsn_env = "NOPE_URL"\nrole = "staging"\n')
    with pytest.raises(ConfigError) as info:
        config.resolve_dsn(cfg.target("s").source)
    assert "NOPE_URL is not set" in info.value.message


def test_unknown_target_lists_known_ones(tmp_path):
    cfg = load(tmp_path, '[targets.s]\ndsn_env = "X"\nrole = "staging"\n')
    with pytest.raises(ConfigError) as info:
        cfg.target("prod")
    assert "targets: s" in info.value.message


def test_backup_max_age_is_configurable(tmp_path):
    cfg = load(tmp_path, '[project]\nbackup_max_age_hours = 6\n[targets.s]\ndsn_env = "X"\nrole = "staging"\n')
    assert cfg.backup_max_age_hours == 6.0
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[project]\nbackup_max_age_hours = -1\n")
    assert "backup_max_age_hours" in info.value.message
