"""Phase 4's after-check: a schema change fails it, other sessions' row changes are reported."""

from wizard.record.gates import unchanged


def test_schema_change_is_a_problem_and_row_changes_are_notes():
    before = {"fingerprint": "a" * 64, "row_counts": {"public.videos": 80, "public.scripts": 70}}
    assert unchanged(before, dict(before)) == ([], [])
    live = {"fingerprint": "a" * 64, "row_counts": {"public.videos": 81, "public.scripts": 70}}
    problems, notes = unchanged(before, live)
    assert problems == [] and notes == ["row count of public.videos changed (80 → 81) through other sessions"]
    altered = {"fingerprint": "b" * 64, "row_counts": before["row_counts"]}
    assert unchanged(before, altered)[0][0].startswith("schema fingerprint changed")
