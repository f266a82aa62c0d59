"""A PostgreSQL 15 target checked against the embedded PostgreSQL 18 shadow: only real drift is reported."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_sql
from wizard import demo
from wizard.cli import main

pytestmark = pytest.mark.second_server


def test_drift_across_server_versions_reports_only_the_hand_made_drift(second_shadow, make_project, capsys):
    sources = demo.migration_sources()
    with second_shadow.scratch("skew_target") as target:
        for text in sources.values():
            run_sql(target, text)
        run_sql(target, demo.drift_sql())
        project = make_project(target, sources)
        code = main(["drift", "--project", str(project), "--json"])
        data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["identity"]["server_version"].startswith("15")
    assert data["parity"]["server_b"].startswith("18")
    found = sorted((d["kind"], d["status"]) for d in data["parity"]["differences"])
    assert found == [
        ("constraint", "different"),
        ("constraint", "different"),
        ("constraint", "different"),
        ("function", "different"),
        ("trigger", "only_b"),
    ], [d["explanation"] for d in data["parity"]["differences"]]
