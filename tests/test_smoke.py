from tests.conftest import run_sql
from wizard.catalog import snapshot
from wizard.db.connect import open_session


def test_fresh_db_has_bootstrap(fresh_db):
    run_sql(fresh_db, "create table public.t (id int primary key)")
    with open_session(fresh_db) as conn:
        snap = snapshot(conn)
    assert ("table", "public.t") in snap.objects
